// Versioned schema upgrades: a catalog written by schema v1 opens, is upgraded in place (one
// transaction), keeps its rows, and then stores and compares data set checksums.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "index/catalog.h"
#include "index/sql_catalog.h"
#include "index/sqlite_database.h"

namespace strata {
namespace {

class SchemaUpgradeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("strata-schema-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "c.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A catalog as a v1 build left it: its DDL, its version row, one instance.
  void WriteV1Catalog() {
    auto db = OpenSqliteDatabase(path_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto conn = (*db)->Acquire(true);
    ASSERT_TRUE(conn.ok());
    std::string ddl = CatalogSchemaSteps().at(0).script;
    for (size_t p; (p = ddl.find("{PK}")) != std::string::npos;) ddl.replace(p, 4, "INTEGER PRIMARY KEY");
    ASSERT_TRUE((*conn)->ExecScript(ddl).ok());
    ASSERT_TRUE((*conn)->ExecScript(
        "INSERT INTO schema_version (version) VALUES (1);"
        "INSERT INTO patients VALUES (1, 'P1', '', 'Doe^P1', 'DOE^P1', '', '');"
        "INSERT INTO studies VALUES (1, '1.2.3', 1, '20240101', '', '', '', '', '', '', 'CT', 1, 1, 100, 5);"
        "INSERT INTO series VALUES (1, '1.2.3.1', 1, 'CT', 1, '', '', '', '', 1, 100);"
        "INSERT INTO instances VALUES (1, '1.2.3.1.1', 1, 1, '1.2.840.10008.5.1.4.1.1.2', 1, 0, 0, 0,"
        " '1.2.840.10008.1.2.1', 100, 'aaaaaaaaaaaaaaaa', 5, 0, 'x/1.2.3.1.1.aaaaaaaa.dcm', '', 0, 0, '', '')")
                    .ok());
  }
  int64_t Version() {
    auto db = OpenSqliteDatabase(path_);
    auto conn = (*db)->Acquire(false);
    auto rows = (*conn)->Query("SELECT version FROM schema_version", {});
    EXPECT_TRUE(rows.ok());
    EXPECT_EQ(rows->size(), 1u);
    return SqlInt((*rows)[0][0]);
  }
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(SchemaUpgradeTest, StepsAreOrderedAndEndAtTheBuildsVersion) {
  const auto& steps = CatalogSchemaSteps();
  ASSERT_FALSE(steps.empty());
  // Strictly increasing from 1 (a number may be reserved by a branch not merged yet: v8, the
  // replica queue, was added while v5-v7 were taken elsewhere).
  EXPECT_EQ(steps.front().version, 1);
  for (size_t i = 1; i < steps.size(); ++i) EXPECT_GT(steps[i].version, steps[i - 1].version);
  EXPECT_EQ(steps.back().version, kCatalogSchemaVersion);
}

TEST_F(SchemaUpgradeTest, V1CatalogIsUpgradedAndKeepsItsRows) {
  WriteV1Catalog();
  ASSERT_EQ(Version(), 1);
  {
    auto cat = OpenCatalog({"sqlite:" + path_});
    ASSERT_TRUE(cat.ok()) << cat.status().ToString();
    auto old = (*cat)->GetInstance("1.2.3.1.1");
    ASSERT_TRUE(old.ok()) << old.status().ToString();
    EXPECT_EQ(old->checksum, "aaaaaaaaaaaaaaaa");
    EXPECT_EQ(old->dataset_checksum, "");  // unknown for a row stored before v2

    // An old row has no data set checksum: another file is a conflict, not "identical".
    InstanceRecord other = old.value();
    other.checksum = "bbbbbbbbbbbbbbbb";
    other.dataset_checksum = "cccccccccccccccc";
    auto add = (*cat)->AddInstances({other}, false);
    ASSERT_TRUE(add.ok());
    EXPECT_EQ(add.value()[0].outcome, AddOutcome::kConflict);

    // New rows keep theirs, and the same data set under another file checksum is identical.
    InstanceRecord fresh = old.value();
    fresh.sop_uid = "1.2.3.1.2";
    fresh.checksum = "dddddddddddddddd";
    fresh.dataset_checksum = "eeeeeeeeeeeeeeee";
    ASSERT_TRUE((*cat)->AddInstances({fresh}, false).ok());
    EXPECT_EQ((*cat)->GetInstance("1.2.3.1.2")->dataset_checksum, "eeeeeeeeeeeeeeee");
    InstanceRecord resent = fresh;
    resent.checksum = "ffffffffffffffff";  // another meta header
    auto again = (*cat)->AddInstances({resent}, false);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again.value()[0].outcome, AddOutcome::kIdentical);
  }
  EXPECT_EQ(Version(), kCatalogSchemaVersion);
  // Opening again runs no step twice.
  auto cat = OpenCatalog({"sqlite:" + path_});
  ASSERT_TRUE(cat.ok()) << cat.status().ToString();
  EXPECT_EQ(Version(), kCatalogSchemaVersion);
}

TEST_F(SchemaUpgradeTest, NewerCatalogIsRefused) {
  WriteV1Catalog();
  {
    auto db = OpenSqliteDatabase(path_);
    auto conn = (*db)->Acquire(true);
    ASSERT_TRUE((*conn)->ExecScript("UPDATE schema_version SET version = 999").ok());
  }
  auto cat = OpenCatalog({"sqlite:" + path_});
  EXPECT_EQ(cat.status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace strata
