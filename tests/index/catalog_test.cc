// The catalog contract, run against every engine: SQLite always, PostgreSQL when
// STRATA_TEST_PG_URL names a server (scripts/pg-dev.sh starts one).
#include "index/catalog.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "index/pg_database.h"

namespace strata {
namespace {

InstanceRecord Make(const std::string& patient, const std::string& study, const std::string& series,
                    const std::string& sop, const std::string& modality = "CT", int64_t number = 1) {
  InstanceRecord r;
  r.patient_id = patient;
  r.patient_name = "Doe^" + patient;
  r.birth_date = "19700101";
  r.sex = "F";
  r.study_uid = study;
  r.study_date = "20240315";
  r.study_time = "101500";
  r.accession = "ACC" + study.substr(study.size() - 2);
  r.study_description = "CT CHEST";
  r.referring_physician = "House^Gregory";
  r.series_uid = series;
  r.modality = modality;
  r.series_number = 2;
  r.sop_uid = sop;
  r.sop_class_uid = "1.2.840.10008.5.1.4.1.1.2";
  r.transfer_syntax = "1.2.840.10008.1.2.1";
  r.instance_number = number;
  r.rows = 512;
  r.columns = 512;
  r.size = 1000 + static_cast<uint64_t>(number);
  r.checksum = "00000000000000" + std::to_string(10 + number % 90);
  r.received_ms = 1000 * number;
  r.location.hot_path = "h/" + sop;
  return r;
}

std::string Values(const std::vector<AttributeValues>& rows, Tag tag) {
  std::string out;
  for (const auto& r : rows) out += (out.empty() ? "" : ",") + r.at(tag);
  return out;
}

class CatalogTest : public ::testing::TestWithParam<std::string> {
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
      // A clean schema per test.
      auto db = OpenPostgresDatabase(url_);
      ASSERT_TRUE(db.ok()) << db.status().ToString();
      auto lease = (*db)->Acquire(true);
      ASSERT_TRUE(lease.ok());
      ASSERT_TRUE((*lease)->ExecScript("DROP TABLE IF EXISTS instances, series, studies, patients, packs, "
                                       "migrations, schema_version CASCADE").ok());
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

  static inline int counter_ = 0;
  std::filesystem::path dir_;
  std::string url_;
  std::unique_ptr<Catalog> cat_;
};

TEST_P(CatalogTest, AddAndGet) {
  Add({Make("P1", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.1")});
  auto r = cat_->GetInstance("1.2.3.1.1.1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->patient_name, "Doe^P1");
  EXPECT_EQ(r->study_uid, "1.2.3.1");
  EXPECT_EQ(r->location.hot_path, "h/1.2.3.1.1.1");
  EXPECT_TRUE(cat_->GetInstance("1.2.3.9").status().IsNotFound());
  EXPECT_EQ(cat_->GetInstance("../x").status().code(), Status::Code::kInvalidArgument);
}

TEST_P(CatalogTest, DuplicatesAreIdenticalOrConflicting) {
  auto a = Make("P1", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.1");
  Add({a});
  auto same = cat_->AddInstances({a}, false);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same.value()[0].outcome, AddOutcome::kIdentical);
  auto b = a;
  b.checksum = "ffffffffffffffff";
  b.location.hot_path = "h/other";
  auto conflict = cat_->AddInstances({b}, false);
  ASSERT_TRUE(conflict.ok());
  EXPECT_EQ(conflict.value()[0].outcome, AddOutcome::kConflict);
  EXPECT_EQ(cat_->GetInstance(a.sop_uid)->checksum, a.checksum);
  auto replaced = cat_->AddInstances({b}, true);
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(replaced.value()[0].outcome, AddOutcome::kReplaced);
  EXPECT_EQ(replaced.value()[0].previous->location.hot_path, "h/1.2.3.1.1.1");
  EXPECT_EQ(cat_->GetInstance(a.sop_uid)->location.hot_path, "h/other");
  auto st = cat_->Stats();
  EXPECT_EQ(st->instances, 1u);
}

TEST_P(CatalogTest, CountersAndModalities) {
  Add({Make("P1", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.1", "CT", 1),
       Make("P1", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.2", "CT", 2),
       Make("P1", "1.2.3.1", "1.2.3.1.2", "1.2.3.1.2.1", "SR", 1),
       Make("P1", "1.2.3.2", "1.2.3.2.1", "1.2.3.2.1.1", "MR", 1)});
  auto s = Find(QueryLevel::kStudy, {{tags::kStudyInstanceUID, "1.2.3.1"}});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->size(), 1u);
  EXPECT_EQ(s->at(0).at(tags::kNumberOfStudyRelatedSeries), "2");
  EXPECT_EQ(s->at(0).at(tags::kNumberOfStudyRelatedInstances), "3");
  EXPECT_EQ(s->at(0).at(tags::kModalitiesInStudy), "CT\\SR");
  auto p = Find(QueryLevel::kPatient, {{tags::kPatientID, "P1"}});
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->size(), 1u);
  EXPECT_EQ(p->at(0).at(tags::kNumberOfPatientRelatedStudies), "2");
  EXPECT_EQ(p->at(0).at(tags::kNumberOfPatientRelatedInstances), "4");
  auto se = Find(QueryLevel::kSeries, {{tags::kStudyInstanceUID, "1.2.3.1"}});
  EXPECT_EQ(Values(se.value(), tags::kNumberOfSeriesRelatedInstances), "2,1");
  // ModalitiesInStudy as a matching key (what viewers send).
  auto mr = Find(QueryLevel::kStudy, {{tags::kModalitiesInStudy, "MR"}});
  EXPECT_EQ(Values(mr.value(), tags::kStudyInstanceUID), "1.2.3.2");
  auto any = Find(QueryLevel::kStudy, {{tags::kModalitiesInStudy, "SR\\MR"}});
  EXPECT_EQ(any->size(), 2u);
}

TEST_P(CatalogTest, MatchingRules) {
  auto a = Make("P1", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.1");
  auto b = Make("P2", "1.2.3.2", "1.2.3.2.1", "1.2.3.2.1.1");
  b.study_date = "20231201";
  b.study_time = "235959.123";
  b.patient_name = "Smith^Anna";
  auto c = Make("P3", "1.2.3.3", "1.2.3.3.1", "1.2.3.3.1.1");
  c.study_date = "20250101";
  c.patient_name = "SMITH^JOHN";
  Add({a, b, c});
  using L = QueryLevel;
  EXPECT_EQ(Values(Find(L::kStudy, {{tags::kPatientID, "P2"}}).value(), tags::kStudyInstanceUID), "1.2.3.2");
  EXPECT_EQ(Find(L::kStudy, {{tags::kPatientID, ""}})->size(), 3u);  // universal
  EXPECT_EQ(Find(L::kStudy, {{tags::kPatientID, "*"}})->size(), 3u);
  EXPECT_EQ(Find(L::kStudy, {{tags::kPatientID, "P?"}})->size(), 3u);
  EXPECT_EQ(Find(L::kStudy, {{tags::kPatientID, "p1"}})->size(), 0u);  // LO is case-sensitive
  // Person names: case-insensitive, wildcards.
  EXPECT_EQ(Values(Find(L::kStudy, {{tags::kPatientName, "smith*"}}).value(), tags::kStudyInstanceUID),
            "1.2.3.2,1.2.3.3");
  // Dates: exact and ranges.
  EXPECT_EQ(Values(Find(L::kStudy, {{tags::kStudyDate, "20231201"}}).value(), tags::kStudyInstanceUID), "1.2.3.2");
  EXPECT_EQ(Values(Find(L::kStudy, {{tags::kStudyDate, "20240101-20241231"}}).value(), tags::kStudyInstanceUID),
            "1.2.3.1");
  EXPECT_EQ(Values(Find(L::kStudy, {{tags::kStudyDate, "-20240315"}}).value(), tags::kStudyInstanceUID),
            "1.2.3.1,1.2.3.2");
  EXPECT_EQ(Values(Find(L::kStudy, {{tags::kStudyDate, "20240316-"}}).value(), tags::kStudyInstanceUID), "1.2.3.3");
  EXPECT_EQ(Values(Find(L::kStudy, {{tags::kStudyTime, "2300-2359"}}).value(), tags::kStudyInstanceUID), "1.2.3.2");
  // UID lists.
  EXPECT_EQ(Values(Find(L::kStudy, {{tags::kStudyInstanceUID, "1.2.3.1\\1.2.3.3"}}).value(),
                   tags::kStudyInstanceUID),
            "1.2.3.1,1.2.3.3");
  // Instance level with parent keys.
  EXPECT_EQ(Values(Find(L::kInstance, {{tags::kSeriesInstanceUID, "1.2.3.3.1"}}).value(), tags::kSOPInstanceUID),
            "1.2.3.3.1.1");
  // Bad keys are errors, not silently empty.
  EXPECT_EQ(Find(L::kStudy, {{tags::kStudyInstanceUID, "1.2.x"}}).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(Find(L::kStudy, {{tags::kStudyDate, "2024"}}).status().code(), Status::Code::kInvalidArgument);
  // SQL metacharacters are data.
  EXPECT_EQ(Find(L::kStudy, {{tags::kPatientID, "P1' OR '1'='1"}})->size(), 0u);
  EXPECT_EQ(Find(L::kStudy, {{tags::kPatientID, "P%"}})->size(), 0u);
}

TEST_P(CatalogTest, LimitOffset) {
  std::vector<InstanceRecord> recs;
  for (int i = 1; i <= 5; ++i)
    recs.push_back(Make("P" + std::to_string(i), "1.2.3." + std::to_string(i), "1.2.3." + std::to_string(i) + ".1",
                        "1.2.3." + std::to_string(i) + ".1.1"));
  Add(recs);
  Query q;
  q.level = QueryLevel::kStudy;
  q.limit = 2;
  q.offset = 2;
  EXPECT_EQ(Values(cat_->Find(q).value(), tags::kStudyInstanceUID), "1.2.3.3,1.2.3.4");
}

TEST_P(CatalogTest, ListInstancesOrdered) {
  Add({Make("P1", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.3", "CT", 3), Make("P1", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.1", "CT", 1),
       Make("P1", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.2", "CT", 2)});
  auto l = cat_->ListInstances("1.2.3.1", "", "");
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->size(), 3u);
  EXPECT_EQ(l->at(0).sop_uid, "1.2.3.1.1.1");
  EXPECT_EQ(l->at(2).sop_uid, "1.2.3.1.1.3");
  EXPECT_EQ(cat_->ListInstances("", "", "").status().code(), Status::Code::kInvalidArgument);
}

TEST_P(CatalogTest, MigrationClaimsAndSwitch) {
  Add({Make("P1", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.1", "CT", 1), Make("P1", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.2", "CT", 2)});
  MigrationPolicy pol;
  pol.received_before_ms = 10'000;
  auto todo = cat_->StudiesToMigrate(pol, 50'000);
  ASSERT_TRUE(todo.ok()) << todo.status().ToString();
  ASSERT_EQ(todo->size(), 1u);
  EXPECT_EQ(todo->at(0).hot_instances, 2u);
  ASSERT_TRUE(cat_->ClaimMigration("1.2.3.1", "nodeA", "packs/k1", 50'000, 60'000).ok());
  EXPECT_EQ(cat_->ClaimMigration("1.2.3.1", "nodeB", "packs/k2", 55'000, 65'000).code(), Status::Code::kConflict);
  EXPECT_TRUE(cat_->StudiesToMigrate(pol, 55'000)->empty());  // claimed
  // After the lease expires another node takes over.
  ASSERT_TRUE(cat_->ClaimMigration("1.2.3.1", "nodeB", "packs/k2", 61'000, 71'000).ok());
  EXPECT_EQ(cat_->UpdateMigration("1.2.3.1", "nodeA", "uploaded", "", 62'000).code(), Status::Code::kConflict);
  PackRecord pack{"packs/k2", "1.2.3.1", 1, 5000, 2, "abc", 62'000};
  Location l1, l2;
  l1.tier = l2.tier = Location::Tier::kCold;
  l1.pack_key = l2.pack_key = "packs/k2";
  l1.offset = 100; l1.length = 10; l2.offset = 200; l2.length = 20;
  l1.hot_path = "h/1.2.3.1.1.1";  // kept until the hot file is deleted
  auto sw = cat_->SwitchToPack(pack, {"1.2.3.1.1.1", "1.2.3.1.1.2"}, {"h/1.2.3.1.1.1", "h/stale"}, {l1, l2});
  ASSERT_TRUE(sw.ok()) << sw.status().ToString();
  EXPECT_TRUE(sw.value()[0]);
  EXPECT_FALSE(sw.value()[1]);  // its hot path changed meanwhile: left alone
  auto i1 = cat_->GetInstance("1.2.3.1.1.1");
  EXPECT_EQ(i1->location.tier, Location::Tier::kCold);
  EXPECT_EQ(i1->location.offset, 100u);
  EXPECT_EQ(cat_->CountPackReferences("packs/k2").value(), 1u);
  EXPECT_EQ(cat_->ListPacks("1.2.3.1")->size(), 1u);
  auto left = cat_->ListLeftoverHotFiles(10);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->at(0).location.hot_path, "h/1.2.3.1.1.1");
  ASSERT_TRUE(cat_->ClearHotPaths({"1.2.3.1.1.1"}).ok());
  EXPECT_TRUE(cat_->ListLeftoverHotFiles(10)->empty());
  // Lease renewal through UpdateMigration.
  ASSERT_TRUE(cat_->UpdateMigration("1.2.3.1", "nodeB", "uploaded", "", 62'500, 99'000).ok());
  EXPECT_EQ(cat_->ClaimMigration("1.2.3.1", "nodeC", "packs/k3", 80'000, 90'000).code(), Status::Code::kConflict);
  ASSERT_TRUE(cat_->UpdateMigration("1.2.3.1", "nodeB", "done", "", 63'000).ok());
  auto st = cat_->Stats().value();
  EXPECT_EQ(st.cold_instances, 1u);
  EXPECT_EQ(st.hot_instances, 1u);
  EXPECT_EQ(st.packs, 1u);
}

TEST_P(CatalogTest, ConcurrentWritersAndReaders) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        std::string sop = "1.2.9." + std::to_string(t + 1) + "." + std::to_string(i + 1);
        auto r = cat_->AddInstances({Make("P9", "1.2.9", "1.2.9.1", sop, "CT", i + 1)}, false);
        EXPECT_TRUE(r.ok()) << r.status().ToString();
        EXPECT_TRUE(cat_->GetInstance(sop).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  auto s = Find(QueryLevel::kStudy, {{tags::kStudyInstanceUID, "1.2.9"}});
  EXPECT_EQ(s->at(0).at(tags::kNumberOfStudyRelatedInstances), "100");
}

INSTANTIATE_TEST_SUITE_P(Engines, CatalogTest, ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace strata
