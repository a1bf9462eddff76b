// CatalogFixture: the fixture of the catalog tests that run on every engine. The parameter is
// "sqlite" (a fresh database file in a temporary folder) or "postgres" (the server named by
// STRATA_TEST_PG_URL, every catalog table dropped first; skipped when the variable is unset,
// scripts/pg-dev.sh starts one). cat_ is opened in SetUp; url_ reopens it; Raw() opens the
// database itself. Header-only, for the test binaries of tests/index (each instantiates its
// suite with ::testing::Values("sqlite", "postgres")).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "index/catalog.h"
#include "index/pg_database.h"
#include "index/sqlite_database.h"

namespace strata {

class CatalogFixture : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      dir_ = std::filesystem::temp_directory_path() / ("strata-cat-" + std::to_string(getpid()) + "-" +
                                                       std::to_string(counter_++));
      std::filesystem::create_directories(dir_);
      url_ = "sqlite:" + (dir_ / "c.db").string();
    } else {
      const char* pg = std::getenv("STRATA_TEST_PG_URL");
      if (!pg) GTEST_SKIP() << "STRATA_TEST_PG_URL not set (scripts/pg-dev.sh starts a PostgreSQL)";
      url_ = pg;
      // A clean schema per test: every table any schema step creates.
      auto db = OpenPostgresDatabase(url_);
      ASSERT_TRUE(db.ok()) << db.status().ToString();
      auto lease = (*db)->Acquire(true);
      ASSERT_TRUE(lease.ok());
      ASSERT_TRUE((*lease)->ExecScript("DROP TABLE IF EXISTS instances, series, studies, patients, packs, migrations,"
                                       " deleted_instances, rejected_instances, replica_queue, corrections,"
                                       " lifecycle_events, schema_version CASCADE").ok());
    }
    auto c = OpenCatalog({url_});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cat_ = std::move(c).value();
  }
  void TearDown() override {
    cat_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  void Add(std::vector<InstanceRecord> recs) {
    auto r = cat_->AddInstances(recs, false);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  Result<std::vector<AttributeValues>> Find(QueryLevel level, std::vector<std::pair<Tag, std::string>> keys) {
    Query q;
    q.level = level;
    q.keys = std::move(keys);
    return cat_->Find(q);
  }
  std::vector<LifecycleEvent> Events() {
    auto page = cat_->ListLifecycleEvents(100, 0);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->events : std::vector<LifecycleEvent>{};
  }

  // The catalog's database itself, beside cat_ (for what the Catalog interface cannot do or
  // see: a row an older build left, a count of rows).
  std::unique_ptr<SqlDatabase> Raw() {
    auto db = GetParam() == "sqlite" ? OpenSqliteDatabase(url_.substr(7)) : OpenPostgresDatabase(url_);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }
  void Sql(const std::string& script) {
    auto db = Raw();
    ASSERT_TRUE(db);
    auto conn = db->Acquire(true);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    ASSERT_TRUE((*conn)->ExecScript(script).ok()) << script;
  }
  // The first column of the first row of QUERY, as a number (-1 on error).
  int64_t SqlNumber(const std::string& query) {
    auto db = Raw();
    if (!db) return -1;
    auto conn = db->Acquire(false);
    if (!conn.ok()) return -1;
    auto rows = (*conn)->Query(query, {});
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() && !rows->empty() ? SqlInt((*rows)[0][0]) : -1;
  }

  static inline int counter_ = 0;
  std::filesystem::path dir_;
  std::string url_;
  std::unique_ptr<Catalog> cat_;
};

// A hot CT instance of PATIENT's STUDY / SERIES with the fields every catalog test needs:
// size, checksum and received time derived from NUMBER, hot path "h/<sop>".
inline InstanceRecord TestInstance(const std::string& patient, const std::string& study, const std::string& series,
                                   const std::string& sop, int64_t number) {
  InstanceRecord r;
  r.patient_id = patient;
  r.patient_name = "Doe^" + patient;
  r.study_uid = study;
  r.study_date = "20240315";
  r.series_uid = series;
  r.modality = "CT";
  r.sop_uid = sop;
  r.sop_class_uid = "1.2.840.10008.5.1.4.1.1.2";
  r.transfer_syntax = "1.2.840.10008.1.2.1";
  r.instance_number = number;
  r.size = 1000;
  r.checksum = "00000000000000" + std::to_string(10 + number);
  r.received_ms = 1000 * number;
  r.location.hot_path = "h/" + sop;
  return r;
}

}  // namespace strata
