// The catalog contract, run against every engine: SQLite always, PostgreSQL when
// STRATA_TEST_PG_URL names a server (scripts/pg-dev.sh starts one).
#include "index/catalog.h"

#include <gtest/gtest.h>

#include <thread>

#include "catalog_fixture.h"
#include "index/pg_database.h"
#include "index/sqlite_database.h"

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

class CatalogTest : public CatalogFixture {};

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

// query.pn_match (issue 12): exact keeps the decoded text (ASCII case aside); insensitive
// folds case and accents on both sides, for PatientName and ReferringPhysicianName alike.
TEST_P(CatalogTest, PersonNameMatchExactOrInsensitive) {
  auto a = Make("P1", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.1");
  a.patient_name = "M\xc3\xbcller^J\xc3\xbcrgen";  // Müller^Jürgen
  a.referring_physician = "Stra\xc3\x9f" "e^Eva";  // Straße^Eva
  auto b = Make("P2", "1.2.3.2", "1.2.3.2.1", "1.2.3.2.1.1");
  b.patient_name = "M\xc3\x9cLLER^HANS";  // MÜLLER^HANS
  auto c = Make("P3", "1.2.3.3", "1.2.3.3.1", "1.2.3.3.1.1");
  c.patient_name = "Muller^Ann";
  auto d = Make("P4", "1.2.3.4", "1.2.3.4.1", "1.2.3.4.1.1");
  d.patient_name = "\xce\x94\xce\xb9\xce\xbf\xce\xbd\xcf\x85\xcf\x83\xce\xb9\xce\xbf\xcf\x82";  // Διονυσιος
  Add({a, b, c, d});
  using L = QueryLevel;
  auto study = [&](Catalog* cat, Tag tag, const std::string& v) {
    Query q;
    q.level = L::kStudy;
    q.keys = {{tag, v}};
    auto r = cat->Find(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? Values(r.value(), tags::kStudyInstanceUID) : std::string("error");
  };
  // Exact (the default): accents count, ASCII case does not.
  EXPECT_EQ(study(cat_.get(), tags::kPatientName, "muller*"), "1.2.3.3");
  EXPECT_EQ(study(cat_.get(), tags::kPatientName, "M\xc3\xbcller*"), "1.2.3.1");
  EXPECT_EQ(study(cat_.get(), tags::kReferringPhysicianName, "strasse*"), "");
  // Insensitive: a second catalog over the same database.
  CatalogOptions opt{url_};
  opt.pn_match = PnMatch::kInsensitive;
  auto ins = OpenCatalog(opt);
  ASSERT_TRUE(ins.ok()) << ins.status().ToString();
  Catalog* cat = ins.value().get();
  EXPECT_EQ(study(cat, tags::kPatientName, "muller*"), "1.2.3.1,1.2.3.2,1.2.3.3");
  EXPECT_EQ(study(cat, tags::kPatientName, "m\xc3\xbcller^j\xc3\xbcrgen"), "1.2.3.1");
  EXPECT_EQ(study(cat, tags::kPatientName, "MULLER^HANS"), "1.2.3.2");
  EXPECT_EQ(study(cat, tags::kPatientName, "M?LLER^*"), "1.2.3.1,1.2.3.2,1.2.3.3");
  EXPECT_EQ(study(cat, tags::kPatientName, "\xce\x94\xce\x99\xce\x9f\xce\x9d\xce\xa5\xce\xa3\xce\x99\xce\x9f\xce\xa3"),
            "1.2.3.4");  // ΔΙΟΝΥΣΙΟΣ
  EXPECT_EQ(study(cat, tags::kReferringPhysicianName, "strasse*"), "1.2.3.1");
  EXPECT_EQ(study(cat, tags::kPatientName, "Schmidt*"), "");
  // Patient level too; the answers carry the names as stored.
  Query q;
  q.level = L::kPatient;
  q.keys = {{tags::kPatientName, "MULLER^JURGEN"}};
  auto r = cat->Find(q);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Values(r.value(), tags::kPatientName), "M\xc3\xbcller^J\xc3\xbcrgen");
  EXPECT_EQ(ParsePnMatch("insensitive").value(), PnMatch::kInsensitive);
  EXPECT_EQ(ParsePnMatch("fuzzy").status().code(), Status::Code::kInvalidArgument);
}

// Schema step v5 on both engines: a v4 catalog (no folded columns) with names in it is
// upgraded on open, and the backfill makes its old rows findable case- and accent-insensitively.
TEST_P(CatalogTest, V5UpgradeBackfillsFoldedNames) {
  auto a = Make("P1", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.1");
  a.patient_name = "\xc3\x84neas^R\xc3\xbc" "diger";  // Äneas^Rüdiger
  a.referring_physician = "Ferr\xc3\xa9^Ana";       // Ferré^Ana
  Add({a});
  cat_.reset();
  {
    std::unique_ptr<SqlDatabase> db;
    if (GetParam() == "sqlite") {
      auto d = OpenSqliteDatabase(url_.substr(7));
      ASSERT_TRUE(d.ok());
      db = std::move(d).value();
    } else {
      auto d = OpenPostgresDatabase(url_);
      ASSERT_TRUE(d.ok());
      db = std::move(d).value();
    }
    auto conn = db->Acquire(true);
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE((*conn)->ExecScript("DROP INDEX patients_name_fold;"
                                    " ALTER TABLE patients DROP COLUMN patient_name_fold;"
                                    " ALTER TABLE studies DROP COLUMN referring_fold;"
                                    " UPDATE schema_version SET version = 4;").ok());
  }
  CatalogOptions opt{url_};
  opt.pn_match = PnMatch::kInsensitive;
  auto c = OpenCatalog(opt);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  cat_ = std::move(c).value();
  EXPECT_EQ(Values(Find(QueryLevel::kStudy, {{tags::kPatientName, "aneas^rudiger"}}).value(), tags::kStudyInstanceUID),
            "1.2.3.1");
  EXPECT_EQ(Values(Find(QueryLevel::kStudy, {{tags::kReferringPhysicianName, "FERRE*"}}).value(),
                   tags::kStudyInstanceUID),
            "1.2.3.1");
  // And rows added after the upgrade get their folded names at insert.
  auto b = Make("P2", "1.2.3.2", "1.2.3.2.1", "1.2.3.2.1.1");
  b.patient_name = "\xc3\x84NEAS^Otto";
  Add({b});
  EXPECT_EQ(Values(Find(QueryLevel::kStudy, {{tags::kPatientName, "aneas*"}}).value(), tags::kStudyInstanceUID),
            "1.2.3.1,1.2.3.2");
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

// The web page's study list: newest first (StudyDate, then StudyTime; undated last; then
// arrival), ordered and paged by the database, with the total counted there.
TEST_P(CatalogTest, NewestFirstPagesAndCount) {
  // Arrival order 1..6; dates chosen so that arrival order is not date order.
  const std::vector<std::pair<std::string, std::string>> when = {
      {"20230101", "080000"}, {"20250610", "090000"}, {"", ""}, {"20250610", "153000"}, {"20240229", "120000"},
      {"20250610", "090000"}};
  std::vector<InstanceRecord> recs;
  for (size_t i = 0; i < when.size(); ++i) {
    const std::string n = std::to_string(i + 1);
    InstanceRecord r = Make("P" + n, "1.2.8." + n, "1.2.8." + n + ".1", "1.2.8." + n + ".1.1");
    r.study_date = when[i].first;
    r.study_time = when[i].second;
    r.modality = i % 2 == 0 ? "CT" : "MR";
    recs.push_back(r);
  }
  Add(recs);
  Query q;
  q.level = QueryLevel::kStudy;
  q.newest_first = true;
  EXPECT_EQ(Values(cat_->Find(q).value(), tags::kStudyInstanceUID), "1.2.8.4,1.2.8.2,1.2.8.6,1.2.8.5,1.2.8.1,1.2.8.3");
  // Two pages of 3 give the same order, cut by the database.
  q.limit = 3;
  q.offset = 0;
  EXPECT_EQ(Values(cat_->Find(q).value(), tags::kStudyInstanceUID), "1.2.8.4,1.2.8.2,1.2.8.6");
  q.offset = 3;
  EXPECT_EQ(Values(cat_->Find(q).value(), tags::kStudyInstanceUID), "1.2.8.5,1.2.8.1,1.2.8.3");
  q.offset = 6;
  EXPECT_TRUE(cat_->Find(q).value().empty());
  // The total ignores limit and offset, and honours the filter.
  EXPECT_EQ(cat_->Count(q).value(), 6u);
  q.keys = {{tags::kModalitiesInStudy, "MR"}};
  q.offset = 0;
  q.limit = 1;
  EXPECT_EQ(Values(cat_->Find(q).value(), tags::kStudyInstanceUID), "1.2.8.4");
  EXPECT_EQ(cat_->Count(q).value(), 3u);
  q.keys = {{tags::kStudyDate, "20250610"}};
  EXPECT_EQ(cat_->Count(q).value(), 3u);
  q.keys = {{tags::kPatientID, "NOBODY"}};
  EXPECT_EQ(cat_->Count(q).value(), 0u);
  // Without newest_first the order stays arrival order.
  Query plain;
  plain.level = QueryLevel::kStudy;
  plain.limit = 2;
  EXPECT_EQ(Values(cat_->Find(plain).value(), tags::kStudyInstanceUID), "1.2.8.1,1.2.8.2");
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

Location ColdAt(const std::string& key, uint64_t offset, uint64_t length) {
  Location l;
  l.tier = Location::Tier::kCold;
  l.pack_key = key;
  l.offset = offset;
  l.length = length;
  return l;
}

Location HotAt(const std::string& path) {
  Location l;
  l.hot_path = path;
  return l;
}

TEST_P(CatalogTest, MigrationClaimsAndSwitch) {
  Add({Make("P1", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.1", "CT", 1), Make("P1", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.2", "CT", 2)});
  MigrationPolicy pol;
  pol.received_before_ms = 10'000;
  auto todo = cat_->StudiesToMigrate(pol, 0);
  ASSERT_TRUE(todo.ok()) << todo.status().ToString();
  ASSERT_EQ(todo->size(), 1u);
  EXPECT_EQ(todo->at(0).hot_instances, 2u);
  auto a = cat_->ClaimMigration("1.2.3.1", "nodeA", "packs/k1", 300);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(cat_->ClaimMigration("1.2.3.1", "nodeB", "packs/k2", 60'000).status().code(), Status::Code::kConflict);
  EXPECT_EQ(cat_->ClaimMigration("1.2.3.1", "nodeA", "packs/k1b", 60'000).status().code(), Status::Code::kConflict);
  EXPECT_TRUE(cat_->StudiesToMigrate(pol, 0)->empty());  // claimed
  // After the lease runs out (by the database's clock) another node takes over, with a
  // greater token; the old holder can neither renew nor finish nor switch.
  std::this_thread::sleep_for(std::chrono::milliseconds(450));
  EXPECT_EQ(cat_->RenewMigration("1.2.3.1", *a, "uploaded", 60'000).code(), Status::Code::kConflict);
  auto b = cat_->ClaimMigration("1.2.3.1", "nodeB", "packs/k2", 60'000);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_GT(*b, *a);
  EXPECT_EQ(cat_->FinishMigration("1.2.3.1", *a, "failed", "x").code(), Status::Code::kConflict);
  PackRecord pack{"packs/k2", "1.2.3.1", 1, 5000, 2, "abc", 62'000};
  Location l1 = ColdAt("packs/k2", 100, 10), l2 = ColdAt("packs/k2", 200, 20);
  l1.hot_path = "h/1.2.3.1.1.1";  // kept until the hot file is deleted
  PackRecord stale{"packs/k1", "1.2.3.1", 1, 5000, 2, "abc", 62'000};
  EXPECT_EQ(cat_->SwitchToPack(stale, MigrationFence{"1.2.3.1", *a}, {"1.2.3.1.1.1"}, {HotAt("h/1.2.3.1.1.1")},
                               {ColdAt("packs/k1", 1, 1)}).status().code(), Status::Code::kConflict);
  EXPECT_TRUE(cat_->ListPacks("1.2.3.1")->empty());  // the refused switch changed nothing
  ASSERT_TRUE(cat_->RenewMigration("1.2.3.1", *b, "uploaded", 60'000).ok());
  auto sw = cat_->SwitchToPack(pack, MigrationFence{"1.2.3.1", *b}, {"1.2.3.1.1.1", "1.2.3.1.1.2"},
                               {HotAt("h/1.2.3.1.1.1"), HotAt("h/stale")}, {l1, l2});
  ASSERT_TRUE(sw.ok()) << sw.status().ToString();
  EXPECT_TRUE(sw.value()[0]);
  EXPECT_FALSE(sw.value()[1]);  // its hot path changed meanwhile: left alone
  // A second switch on the same claim is refused (state is "switched").
  EXPECT_EQ(cat_->SwitchToPack(PackRecord{"packs/k3", "1.2.3.1", 2, 1, 1, "x", 1}, MigrationFence{"1.2.3.1", *b},
                               {}, {}, {}).status().code(), Status::Code::kConflict);
  auto i1 = cat_->GetInstance("1.2.3.1.1.1");
  EXPECT_EQ(i1->location.tier, Location::Tier::kCold);
  EXPECT_EQ(i1->location.offset, 100u);
  EXPECT_EQ(cat_->CountPackReferences("packs/k2").value(), 1u);
  EXPECT_EQ(cat_->ListPacks("1.2.3.1")->size(), 1u);
  EXPECT_EQ(cat_->DeletePackRecord("packs/k2").code(), Status::Code::kConflict);  // still referenced
  auto left = cat_->ListLeftoverHotFiles(10);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->at(0).location.hot_path, "h/1.2.3.1.1.1");
  ASSERT_TRUE(cat_->ClearHotPaths({"1.2.3.1.1.1"}).ok());
  EXPECT_TRUE(cat_->ListLeftoverHotFiles(10)->empty());
  ASSERT_TRUE(cat_->FinishMigration("1.2.3.1", *b, "done", "").ok());
  auto st = cat_->Stats().value();
  EXPECT_EQ(st.cold_instances, 1u);
  EXPECT_EQ(st.hot_instances, 1u);
  EXPECT_EQ(st.packs, 1u);
  auto snap = cat_->ReadLedgerSnapshot();
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  ASSERT_EQ(snap->claims.size(), 1u);
  EXPECT_EQ(snap->claims[0].token, *b);
  EXPECT_EQ(snap->claims[0].state, "done");
  EXPECT_EQ(snap->referenced_packs, std::vector<std::string>{"packs/k2"});
  EXPECT_GT(snap->db_now_ms, 1'600'000'000'000);  // unix milliseconds
}

// A renewal keeps a claim alive past its first lease; a dead claim may be marked failed only
// while it is still the claim (same token and the same lease) the janitor saw.
TEST_P(CatalogTest, RenewalAndConditionalFailure) {
  Add({Make("P1", "1.2.3.2", "1.2.3.2.1", "1.2.3.2.1.1", "CT", 1)});
  auto a = cat_->ClaimMigration("1.2.3.2", "nodeA", "packs/a", 400);
  ASSERT_TRUE(a.ok());
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    ASSERT_TRUE(cat_->RenewMigration("1.2.3.2", *a, "claimed", 400).ok()) << i;
  }
  EXPECT_EQ(cat_->ClaimMigration("1.2.3.2", "nodeB", "packs/b", 400).status().code(), Status::Code::kConflict);
  auto seen = cat_->ReadLedgerSnapshot().value().claims.at(0);
  ASSERT_TRUE(cat_->RenewMigration("1.2.3.2", *a, "claimed", 60'000).ok());
  // The janitor's view is stale: the claim was renewed meanwhile, so it is left alone.
  EXPECT_EQ(cat_->FinishMigration("1.2.3.2", *a, "failed", "dead?", seen.lease_until_ms).code(),
            Status::Code::kConflict);
  auto now = cat_->ReadLedgerSnapshot().value().claims.at(0);
  EXPECT_EQ(now.state, "claimed");
  ASSERT_TRUE(cat_->FinishMigration("1.2.3.2", *a, "failed", "dead", now.lease_until_ms).ok());
  EXPECT_EQ(cat_->RenewMigration("1.2.3.2", *a, "claimed", 60'000).code(), Status::Code::kConflict);
}

// Consolidation's switch: cold to cold, only from the expected old entry, and old pack rows
// retired in the same transaction once nothing references them.
TEST_P(CatalogTest, ConsolidatingSwitchRetiresOldPacks) {
  Add({Make("P1", "1.2.3.3", "1.2.3.3.1", "1.2.3.3.1.1", "CT", 1), Make("P1", "1.2.3.3", "1.2.3.3.1", "1.2.3.3.1.2", "CT", 2)});
  auto t1 = cat_->ClaimMigration("1.2.3.3", "n", "packs/g1", 60'000);
  ASSERT_TRUE(t1.ok());
  Location g1a = ColdAt("packs/g1", 10, 5), g1b = ColdAt("packs/g1", 20, 5);
  g1a.hot_path = "h/1.2.3.3.1.1";
  ASSERT_TRUE(cat_->SwitchToPack(PackRecord{"packs/g1", "1.2.3.3", 1, 100, 2, "m1", 1}, MigrationFence{"1.2.3.3", *t1},
                                 {"1.2.3.3.1.1", "1.2.3.3.1.2"}, {HotAt("h/1.2.3.3.1.1"), HotAt("h/1.2.3.3.1.2")},
                                 {g1a, g1b}).ok());
  ASSERT_TRUE(cat_->FinishMigration("1.2.3.3", *t1, "done", "").ok());
  auto t2 = cat_->ClaimMigration("1.2.3.3", "n", "packs/g2", 60'000);
  ASSERT_TRUE(t2.ok());
  // The second instance's expected location is stale (offset 99): it stays in g1, so g1's row stays.
  auto sw = cat_->SwitchToPack(PackRecord{"packs/g2", "1.2.3.3", 2, 100, 2, "m2", 2}, MigrationFence{"1.2.3.3", *t2},
                               {"1.2.3.3.1.1", "1.2.3.3.1.2"}, {ColdAt("packs/g1", 10, 0), ColdAt("packs/g1", 99, 0)},
                               {ColdAt("packs/g2", 30, 5), ColdAt("packs/g2", 40, 5)}, {"packs/g1"});
  ASSERT_TRUE(sw.ok()) << sw.status().ToString();
  EXPECT_TRUE(sw->at(0));
  EXPECT_FALSE(sw->at(1));
  auto moved = cat_->GetInstance("1.2.3.3.1.1").value();
  EXPECT_EQ(moved.location.pack_key, "packs/g2");
  EXPECT_EQ(moved.location.offset, 30u);
  EXPECT_EQ(moved.location.hot_path, "h/1.2.3.3.1.1");  // the trail is kept for the janitor
  EXPECT_EQ(cat_->ListPacks("1.2.3.3")->size(), 2u);    // g1 still referenced
  ASSERT_TRUE(cat_->FinishMigration("1.2.3.3", *t2, "done", "").ok());
  auto t3 = cat_->ClaimMigration("1.2.3.3", "n", "packs/g3", 60'000);
  ASSERT_TRUE(t3.ok());
  ASSERT_TRUE(cat_->SwitchToPack(PackRecord{"packs/g3", "1.2.3.3", 3, 100, 2, "m3", 3}, MigrationFence{"1.2.3.3", *t3},
                                 {"1.2.3.3.1.1", "1.2.3.3.1.2"}, {ColdAt("packs/g2", 30, 0), ColdAt("packs/g1", 20, 0)},
                                 {ColdAt("packs/g3", 1, 5), ColdAt("packs/g3", 2, 5)}, {"packs/g1", "packs/g2"}).ok());
  auto packs = cat_->ListPacks("1.2.3.3").value();
  ASSERT_EQ(packs.size(), 1u);
  EXPECT_EQ(packs[0].pack_key, "packs/g3");
  EXPECT_EQ(cat_->ReadLedgerSnapshot()->referenced_packs, std::vector<std::string>{"packs/g3"});
}

// The v3 step upgrades a catalog written by the first release (no claim_token column).
TEST(CatalogSchemaTest, UpgradesAFirstReleaseCatalog) {
  auto dir = std::filesystem::temp_directory_path() / ("strata-cat-v1-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string db = (dir / "c.db").string();
  {
    auto cat = OpenCatalog(CatalogOptions{"sqlite:" + db});
    ASSERT_TRUE(cat.ok());
  }
  // Make it a v1 catalog again: drop the later columns (SQLite >= 3.35) and the version.
  ASSERT_EQ(std::system(("sqlite3 " + db + " 'ALTER TABLE migrations DROP COLUMN claim_token;"
                         " ALTER TABLE instances DROP COLUMN dataset_checksum;"
                         " DROP INDEX patients_name_fold; ALTER TABLE patients DROP COLUMN patient_name_fold;"
                         " ALTER TABLE studies DROP COLUMN referring_fold;"
                         " UPDATE schema_version SET version = 1;'").c_str()), 0);
  auto cat = OpenCatalog(CatalogOptions{"sqlite:" + db});
  ASSERT_TRUE(cat.ok()) << cat.status().ToString();
  auto r = (*cat)->AddInstances({Make("P1", "1.2.3.9", "1.2.3.9.1", "1.2.3.9.1.1")}, false);
  ASSERT_TRUE(r.ok());
  auto t = (*cat)->ClaimMigration("1.2.3.9", "n", "packs/x", 60'000);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t, 1);
  std::filesystem::remove_all(dir);
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

// Deleting an instance, a series, a study: the counters, Modalities in Study and the empty
// parent rows follow in the same transaction; each deleted UID is tombstoned.
TEST_P(CatalogTest, DeleteInstanceSeriesAndStudy) {
  Add({Make("P1", "1.2.5.1", "1.2.5.1.1", "1.2.5.1.1.1", "CT", 1), Make("P1", "1.2.5.1", "1.2.5.1.1", "1.2.5.1.1.2", "CT", 2),
       Make("P1", "1.2.5.1", "1.2.5.1.2", "1.2.5.1.2.1", "MR", 3), Make("P1", "1.2.5.2", "1.2.5.2.1", "1.2.5.2.1.1", "CT", 4)});
  auto study = [&](const std::string& uid) {
    return Find(QueryLevel::kStudy, {{tags::kStudyInstanceUID, uid}, {tags::kNumberOfStudyRelatedInstances, ""},
                                     {tags::kNumberOfStudyRelatedSeries, ""}, {tags::kModalitiesInStudy, ""}});
  };
  auto one = cat_->DeleteInstances("1.2.5.1", "", "1.2.5.1.1.2");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ASSERT_EQ(one->instances.size(), 1u);
  EXPECT_EQ(one->instances[0].location.hot_path, "h/1.2.5.1.1.2");
  EXPECT_TRUE(cat_->GetInstance("1.2.5.1.1.2").status().IsNotFound());
  EXPECT_TRUE(cat_->IsDeleted("1.2.5.1.1.2").value());
  EXPECT_FALSE(cat_->IsDeleted("1.2.5.1.1.1").value());
  auto s1 = study("1.2.5.1");
  ASSERT_EQ(s1->size(), 1u);
  EXPECT_EQ(s1->at(0).at(tags::kNumberOfStudyRelatedInstances), "2");
  EXPECT_EQ(s1->at(0).at(tags::kModalitiesInStudy), "CT\\MR");
  // The MR series: its row goes, the study has one series and modality left.
  ASSERT_TRUE(cat_->DeleteInstances("1.2.5.1", "1.2.5.1.2", "").ok());
  auto s2 = study("1.2.5.1");
  EXPECT_EQ(s2->at(0).at(tags::kNumberOfStudyRelatedSeries), "1");
  EXPECT_EQ(s2->at(0).at(tags::kModalitiesInStudy), "CT");
  EXPECT_TRUE(Find(QueryLevel::kSeries, {{tags::kSeriesInstanceUID, "1.2.5.1.2"}})->empty());
  // Nothing left to match, a series of another study, a bad UID.
  EXPECT_TRUE(cat_->DeleteInstances("1.2.5.1", "1.2.5.1.2", "").status().IsNotFound());
  EXPECT_TRUE(cat_->DeleteInstances("1.2.5.1", "1.2.5.2.1", "").status().IsNotFound());
  EXPECT_EQ(cat_->DeleteInstances("1.2.5.1", "", "../x").status().code(), Status::Code::kInvalidArgument);
  // The whole study: the patient stays (another study), until that one goes too.
  ASSERT_TRUE(cat_->DeleteInstances("1.2.5.1", "", "").ok());
  EXPECT_TRUE(study("1.2.5.1")->empty());
  EXPECT_EQ(Find(QueryLevel::kPatient, {{tags::kPatientID, "P1"}})->size(), 1u);
  ASSERT_TRUE(cat_->DeleteInstances("1.2.5.2", "", "").ok());
  EXPECT_TRUE(Find(QueryLevel::kPatient, {{tags::kPatientID, "P1"}})->empty());
  auto st = cat_->Stats().value();
  EXPECT_EQ(st.instances, 0u);
  EXPECT_EQ(st.studies, 0u);
  EXPECT_EQ(st.patients, 0u);
  // A deleted instance may be stored again: a new row (the tombstone is only for files left behind).
  Add({Make("P1", "1.2.5.1", "1.2.5.1.1", "1.2.5.1.1.2", "CT", 2)});
  EXPECT_EQ(study("1.2.5.1")->at(0).at(tags::kNumberOfStudyRelatedInstances), "1");
}

// Packed instances: the pack row goes with its last reference; a pack that keeps survivors
// is named for compaction (unless a claim on its study is live).
TEST_P(CatalogTest, DeleteFromAPackThinsThenEmptiesIt) {
  Add({Make("P1", "1.2.6.1", "1.2.6.1.1", "1.2.6.1.1.1", "CT", 1), Make("P1", "1.2.6.1", "1.2.6.1.1", "1.2.6.1.1.2", "CT", 2),
       Make("P1", "1.2.6.1", "1.2.6.1.1", "1.2.6.1.1.3", "CT", 3)});
  auto t = cat_->ClaimMigration("1.2.6.1", "n", "packs/d1", 60'000);
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(cat_->SwitchToPack(PackRecord{"packs/d1", "1.2.6.1", 1, 100, 3, "m", 1}, MigrationFence{"1.2.6.1", *t},
                                 {"1.2.6.1.1.1", "1.2.6.1.1.2", "1.2.6.1.1.3"},
                                 {HotAt("h/1.2.6.1.1.1"), HotAt("h/1.2.6.1.1.2"), HotAt("h/1.2.6.1.1.3")},
                                 {ColdAt("packs/d1", 10, 5), ColdAt("packs/d1", 20, 5), ColdAt("packs/d1", 30, 5)}).ok());
  EXPECT_TRUE(cat_->StudiesToCompact(10)->empty());
  auto one = cat_->DeleteInstances("1.2.6.1", "1.2.6.1.1", "1.2.6.1.1.2");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->thinned_packs, std::vector<std::string>{"packs/d1"});
  EXPECT_TRUE(one->emptied_packs.empty());
  EXPECT_TRUE(cat_->StudiesToCompact(10)->empty());  // the claim (switched, not done) is live
  ASSERT_TRUE(cat_->FinishMigration("1.2.6.1", *t, "done", "").ok());
  EXPECT_EQ(cat_->StudiesToCompact(10).value(), std::vector<std::string>{"1.2.6.1"});
  auto rest = cat_->DeleteInstances("1.2.6.1", "", "");
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->instances.size(), 2u);
  EXPECT_EQ(rest->emptied_packs, std::vector<std::string>{"packs/d1"});
  EXPECT_TRUE(cat_->ListPacks("")->empty());
  EXPECT_TRUE(cat_->StudiesToCompact(10)->empty());
  EXPECT_TRUE(cat_->ReadLedgerSnapshot()->referenced_packs.empty());
}

// Schema v6: the QIDO-RS default attributes and the header JSON are stored, returned by Find
// at every level (study/series from the first instance), and backfilled rows keep new values.
TEST_P(CatalogTest, QidoAttributesAndHeader) {
  auto a = Make("P1", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.1");
  a.bits_allocated = 16;
  a.timezone_offset = "+0100";
  a.pps_start_date = "20240315";
  a.pps_start_time = "101500";
  a.request_attributes = "SPS1\x1fRP1\x1eSPS2\x1fRP2";
  a.header_json = R"({"00101010":{"vr":"AS","Value":["042Y"]}})";
  auto b = Make("P1", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.2", "CT", 2);
  b.bits_allocated = 8;
  b.header_json = R"({"00101010":{"vr":"AS","Value":["043Y"]}})";
  Add({a, b});
  Query q;
  q.level = QueryLevel::kInstance;
  q.with_header = true;
  auto inst = cat_->Find(q);
  ASSERT_TRUE(inst.ok()) << inst.status().ToString();
  ASSERT_EQ(inst->size(), 2u);
  EXPECT_EQ(Values(*inst, tags::kBitsAllocated), "16,8");
  EXPECT_EQ((*inst)[1].at(tags::kHeaderJson), b.header_json);
  EXPECT_EQ((*inst)[1].at(tags::kTimezoneOffsetFromUTC), "+0100");  // the study's, from its first instance
  q.level = QueryLevel::kSeries;
  auto se = cat_->Find(q);
  ASSERT_TRUE(se.ok()) << se.status().ToString();
  EXPECT_EQ(se->at(0).at(tags::kPerformedProcedureStepStartDate), "20240315");
  EXPECT_EQ(se->at(0).at(tags::kPerformedProcedureStepStartTime), "101500");
  EXPECT_EQ(se->at(0).at(tags::kRequestAttributesSequence), a.request_attributes);
  EXPECT_EQ(se->at(0).at(tags::kHeaderJson), a.header_json);  // instance number 1 first
  q.level = QueryLevel::kStudy;
  q.keys = {{tags::kPerformedProcedureStepStartDate, "20240101-20241231"}};  // series key at study level: ignored
  auto st = cat_->Find(q);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->size(), 1u);
  q.level = QueryLevel::kSeries;
  q.keys = {{tags::kPerformedProcedureStepStartDate, "20250101-"}};
  EXPECT_TRUE(cat_->Find(q)->empty());
  // Without with_header no header comes back.
  q.with_header = false;
  q.keys.clear();
  EXPECT_EQ(cat_->Find(q)->at(0).count(tags::kHeaderJson), 0u);
  // Nothing to backfill; an update of a deleted instance is skipped.
  EXPECT_TRUE(cat_->ListInstancesWithoutHeader(10)->empty());
  InstanceRecord gone;
  gone.sop_uid = "1.2.3.9.9";
  EXPECT_TRUE(cat_->UpdateHeaderAttributes({gone}).ok());
}

// A catalog as a v4 build left it (on either engine) gets the v6 columns, keeps its rows and
// lists them for the backfill; opening it again alters nothing (the probe finds the columns).
TEST_P(CatalogTest, V4CatalogIsUpgradedToV6) {
  Add({Make("P1", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.1")});
  cat_.reset();
  {
    auto db = GetParam() == "sqlite" ? OpenSqliteDatabase(url_.substr(7)) : OpenPostgresDatabase(url_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto c = (*db)->Acquire(true);
    ASSERT_TRUE(c.ok());
    // As a v4 build left it: without v5's folded names, v6's columns, v7's and v8's tables.
    for (const char* drop : {"DROP INDEX IF EXISTS instances_no_header", "DROP INDEX IF EXISTS patients_name_fold",
                             "DROP TABLE IF EXISTS rejected_instances", "DROP TABLE IF EXISTS replica_queue"})
      ASSERT_TRUE((*c)->ExecScript(drop).ok()) << drop;
    for (const char* drop : {"patients DROP COLUMN patient_name_fold", "studies DROP COLUMN referring_fold",
                             "studies DROP COLUMN timezone_offset", "series DROP COLUMN pps_start_date",
                             "series DROP COLUMN pps_start_time", "series DROP COLUMN request_attributes",
                             "instances DROP COLUMN bits_allocated", "instances DROP COLUMN header_json"})
      ASSERT_TRUE((*c)->ExecScript(std::string("ALTER TABLE ") + drop).ok()) << drop;
    ASSERT_TRUE((*c)->ExecScript("UPDATE schema_version SET version = 4").ok());
  }
  for (int open = 0; open < 2; ++open) {
    auto c = OpenCatalog({url_});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cat_ = std::move(c).value();
    auto pending = cat_->ListInstancesWithoutHeader(10);
    ASSERT_TRUE(pending.ok()) << pending.status().ToString();
    ASSERT_EQ(pending->size(), 1u);
    EXPECT_EQ((*pending)[0].patient_name, "Doe^P1");
    cat_.reset();
  }
  auto c = OpenCatalog({url_});
  ASSERT_TRUE(c.ok());
  cat_ = std::move(c).value();
}

// IOCM rejection: hidden from the IMAGE level, counted out of series and study at once (a
// series left with none is not listed), kept as rows; a later delete does not count twice.
TEST_P(CatalogTest, RejectionHidesAndDeleteCountsOnce) {
  Add({Make("P1", "1.2.6.1", "1.2.6.1.1", "1.2.6.1.1.1", "CT", 1), Make("P1", "1.2.6.1", "1.2.6.1.1", "1.2.6.1.1.2", "CT", 2),
       Make("P1", "1.2.6.1", "1.2.6.1.2", "1.2.6.1.2.1", "CT", 3)});
  auto study = [&]() {
    return Find(QueryLevel::kStudy, {{tags::kStudyInstanceUID, "1.2.6.1"}, {tags::kNumberOfStudyRelatedInstances, ""},
                                     {tags::kNumberOfStudyRelatedSeries, ""}});
  };
  RejectionRecord a{"1.2.6.1.1.2", "1.2.6.1.1", "1.2.6.1", "113001", "1.2.6.9.1", 0};
  RejectionRecord b{"1.2.6.1.2.1", "1.2.6.1.2", "1.2.6.1", "113001", "1.2.6.9.1", 0};
  RejectionRecord absent{"1.2.6.1.1.7", "1.2.6.1.1", "1.2.6.1", "113037", "1.2.6.9.1", 0};
  auto n = cat_->RejectInstances({a, b, absent});
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 2u);  // the absent one is recorded (its arrival is refused) but hides nothing
  EXPECT_EQ(cat_->RejectInstances({a}).value(), 0u);  // again: no double counting
  EXPECT_EQ(cat_->GetRejection("1.2.6.1.1.7")->reason_code, "113037");
  EXPECT_TRUE(cat_->GetRejection("1.2.6.1.1.1").status().IsNotFound());
  auto images = Find(QueryLevel::kInstance, {{tags::kStudyInstanceUID, "1.2.6.1"}, {tags::kSOPInstanceUID, ""}});
  ASSERT_EQ(images->size(), 1u);
  EXPECT_EQ(images->at(0).at(tags::kSOPInstanceUID), "1.2.6.1.1.1");
  EXPECT_EQ(study()->at(0).at(tags::kNumberOfStudyRelatedInstances), "1");
  EXPECT_EQ(study()->at(0).at(tags::kNumberOfStudyRelatedSeries), "1");
  EXPECT_TRUE(Find(QueryLevel::kSeries, {{tags::kSeriesInstanceUID, "1.2.6.1.2"}})->empty());
  EXPECT_TRUE(cat_->GetInstance("1.2.6.1.1.2").ok());  // the row (and its bytes) stay
  EXPECT_EQ(cat_->ListInstances("1.2.6.1", "", "")->size(), 3u);
  EXPECT_EQ(cat_->RejectedInStudy("1.2.6.1")->size(), 3u);
  EXPECT_EQ(cat_->RejectedBefore(INT64_MAX, 10)->size(), 2u);  // with a row only
  EXPECT_TRUE(cat_->RejectedBefore(0, 10)->empty());
  // The grace-period delete of a rejected instance leaves the counters alone.
  ASSERT_TRUE(cat_->DeleteInstances("1.2.6.1", "", "1.2.6.1.1.2").ok());
  EXPECT_EQ(study()->at(0).at(tags::kNumberOfStudyRelatedInstances), "1");
  ASSERT_TRUE(cat_->DeleteInstances("1.2.6.1", "", "1.2.6.1.1.1").ok());
  ASSERT_TRUE(cat_->DeleteInstances("1.2.6.1", "", "").ok());  // the rejected series
  EXPECT_TRUE(study()->empty());
  EXPECT_EQ(cat_->Stats()->instances, 0u);
  EXPECT_EQ(cat_->RejectInstances({{"../x", "", "1.2.6.1", "113001", "", 0}}).status().code(),
            Status::Code::kInvalidArgument);
}

// Corrections (schema v9): the catalog answers with the new values at once, keeps one record
// per changed attribute, moves studies between patients and removes emptied patient rows.
TEST_P(CatalogTest, CorrectStudyAndMergePatients) {
  Add({Make("P1", "1.2.9.1", "1.2.9.1.1", "1.2.9.1.1.1"), Make("P1", "1.2.9.2", "1.2.9.2.1", "1.2.9.2.1.1"),
       Make("P2", "1.2.9.3", "1.2.9.3.1", "1.2.9.3.1.1")});
  auto study = [&](const std::string& uid) {
    auto r = Find(QueryLevel::kStudy, {{tags::kStudyInstanceUID, uid}});
    EXPECT_TRUE(r.ok() && r->size() == 1);
    return r.ok() && r->size() == 1 ? r->at(0) : AttributeValues{};
  };
  // Study attributes: only the values that differ get records.
  auto c = cat_->CorrectStudy("1.2.9.1", {{tags::kAccessionNumber, "NEWACC"}, {tags::kStudyDescription, "CT CHEST"},
                                          {tags::kReferringPhysicianName, "Müller^Hans"}},
                              "tester", "typo");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->size(), 2u);
  EXPECT_EQ(c->at(0).tag, tags::kAccessionNumber);
  EXPECT_EQ(c->at(0).old_value, "ACC.1");
  EXPECT_EQ(c->at(0).new_value, "NEWACC");
  EXPECT_EQ(c->at(0).who, "tester");
  EXPECT_EQ(c->at(0).kind, "correct");
  EXPECT_GT(c->at(0).at_ms, 0);
  EXPECT_EQ(c->at(0).change_id, c->at(1).change_id);
  EXPECT_EQ(study("1.2.9.1").at(tags::kAccessionNumber), "NEWACC");
  EXPECT_EQ(Find(QueryLevel::kStudy, {{tags::kAccessionNumber, "NEWACC"}})->size(), 1u);
  EXPECT_EQ(Find(QueryLevel::kStudy, {{tags::kReferringPhysicianName, "müller*"}})->size(), 1u);  // the _norm column (ASCII case)
  // Demographics of a patient with two studies: both studies get records.
  c = cat_->CorrectStudy("1.2.9.1", {{tags::kPatientName, "Roe^Jane"}}, "tester", "");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->size(), 2u);
  EXPECT_EQ(study("1.2.9.2").at(tags::kPatientName), "Roe^Jane");
  EXPECT_EQ(cat_->ListCorrections("1.2.9.2")->size(), 1u);
  EXPECT_EQ(cat_->ListCorrections("1.2.9.1")->size(), 3u);
  EXPECT_GT(cat_->ListCorrections("1.2.9.1")->back().change_id, cat_->ListCorrections("1.2.9.1")->front().change_id);
  // A study sent under the wrong ID moves to the right patient, and takes its demographics.
  c = cat_->CorrectStudy("1.2.9.2", {{tags::kPatientID, "P2"}}, "tester", "wrong patient");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(study("1.2.9.2").at(tags::kPatientID), "P2");
  EXPECT_EQ(study("1.2.9.2").at(tags::kPatientName), "Doe^P2");
  EXPECT_EQ(Find(QueryLevel::kPatient, {})->size(), 2u);
  // A new identity for a patient with one study: its row changes in place.
  c = cat_->CorrectStudy("1.2.9.1", {{tags::kPatientID, "P9"}, {tags::kPatientSex, "M"}}, "tester", "");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->size(), 2u);
  EXPECT_EQ(Find(QueryLevel::kPatient, {{tags::kPatientID, "P1"}})->size(), 0u);
  EXPECT_EQ(Find(QueryLevel::kPatient, {{tags::kPatientID, "P9"}})->at(0).at(tags::kPatientSex), "M");
  // A late arrival for the corrected study keeps to its patient, whatever it carries.
  Add({Make("P1", "1.2.9.1", "1.2.9.1.1", "1.2.9.1.1.2", "CT", 2)});
  EXPECT_EQ(Find(QueryLevel::kPatient, {})->size(), 2u);
  EXPECT_EQ(study("1.2.9.1").at(tags::kPatientID), "P9");
  // Merge P9 into P2: one patient left with all three studies.
  auto m = cat_->MergePatients("P9", "", "P2", "", "tester", "duplicate record");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_FALSE(m->empty());
  for (const auto& r : m.value()) {
    EXPECT_EQ(r.study_uid, "1.2.9.1");
    EXPECT_EQ(r.kind, "merge");
  }
  auto patients = Find(QueryLevel::kPatient, {});
  ASSERT_EQ(patients->size(), 1u);
  EXPECT_EQ(patients->at(0).at(tags::kPatientID), "P2");
  EXPECT_EQ(patients->at(0).at(tags::kNumberOfPatientRelatedStudies), "3");
  EXPECT_EQ(study("1.2.9.1").at(tags::kPatientName), "Doe^P2");
  // Errors change nothing.
  EXPECT_TRUE(cat_->MergePatients("P9", "", "P2", "", "t", "").status().IsNotFound());
  EXPECT_TRUE(cat_->MergePatients("P2", "", "NOPE", "", "t", "").status().IsNotFound());
  EXPECT_EQ(cat_->MergePatients("P2", "", "P2", "", "t", "").status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(cat_->CorrectStudy("1.2.9.99", {{tags::kStudyID, "X"}}, "t", "").status().IsNotFound());
  EXPECT_EQ(cat_->CorrectStudy("1.2.9.1", {{tags::kModality, "MR"}}, "t", "").status().code(),
            Status::Code::kInvalidArgument);
  // A study deleted and sent again starts without corrections.
  ASSERT_TRUE(cat_->DeleteInstances("1.2.9.3", "", "").ok());
  EXPECT_TRUE(cat_->ListCorrections("1.2.9.3")->empty());
  const size_t before = cat_->ListCorrections("1.2.9.2")->size();
  EXPECT_GT(before, 0u);
  ASSERT_TRUE(cat_->DeleteInstances("1.2.9.2", "", "").ok());
  Add({Make("P5", "1.2.9.2", "1.2.9.2.1", "1.2.9.2.1.1")});
  EXPECT_TRUE(cat_->ListCorrections("1.2.9.2")->empty());
}

INSTANTIATE_TEST_SUITE_P(Engines, CatalogTest, ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace strata
