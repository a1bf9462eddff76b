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
  // 1, 2, 3, ... without gaps: a catalog at version N has run exactly the steps up to N (a
  // branch that reserved a number is renumbered when it merges; probed steps run by content).
  for (size_t i = 0; i < steps.size(); ++i) EXPECT_EQ(steps[i].version, static_cast<int>(i + 1));
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

// v5 (CharsetSchemaV5): the folded name columns are filled for the rows already there, so
// query.pn_match = insensitive finds names stored before the upgrade. Rows an older build
// wrote with raw Latin-1 bytes read back escaped (valid UTF-8) instead of as invalid text.
TEST_F(SchemaUpgradeTest, V5BackfillsFoldedNamesOfExistingRows) {
  WriteV1Catalog();
  {
    auto db = OpenSqliteDatabase(path_);
    auto conn = (*db)->Acquire(true);
    ASSERT_TRUE((*conn)->ExecScript(
        "UPDATE patients SET patient_name = 'M\xc3\xbcller^J\xc3\xbcrgen';"
        "UPDATE studies SET referring = 'Stra\xc3\x9f" "e^Eva';"
        "INSERT INTO patients VALUES (2, 'P2', '', CAST(X'4DFC6C6C6572' AS TEXT), 'M', '', '');"
        // with a study: the patient level lists only patients that have one
        "INSERT INTO studies VALUES (2, '1.2.99.2', 2, '', '', '', '', '', '', '', '', 1, 1, 0, 0);").ok());
  }
  CatalogOptions opt{"sqlite:" + path_};
  opt.pn_match = PnMatch::kInsensitive;
  auto cat = OpenCatalog(opt);
  ASSERT_TRUE(cat.ok()) << cat.status().ToString();
  EXPECT_EQ(Version(), kCatalogSchemaVersion);
  auto find = [&](QueryLevel level, Tag tag, const std::string& v) {
    Query q;
    q.level = level;
    q.keys = {{tag, v}};
    auto r = (*cat)->Find(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::string out;
    for (const auto& row : r.value()) out += (out.empty() ? "" : ",") + row.at(tags::kPatientName);
    return out;
  };
  EXPECT_EQ(find(QueryLevel::kStudy, tags::kPatientName, "muller*"), "M\xc3\xbcller^J\xc3\xbcrgen");
  EXPECT_EQ(find(QueryLevel::kStudy, tags::kReferringPhysicianName, "STRASSE^EVA"), "M\xc3\xbcller^J\xc3\xbcrgen");
  // The raw row: its 0xFC byte escaped (U+EFFC) in the answer and in the folded key.
  EXPECT_EQ(find(QueryLevel::kPatient, tags::kPatientID, "P2"), "M\xee\xbf\xbcller");
  EXPECT_EQ(find(QueryLevel::kPatient, tags::kPatientName, "m*"), "M\xc3\xbcller^J\xc3\xbcrgen,M\xee\xbf\xbcller");
}

// A catalog as a v4 build left it (steps 1..4 and version 4), with one instance.
void RunStepsUpTo(SqlConnection& c, int version) {
  for (const auto& step : CatalogSchemaSteps()) {
    if (step.version > version) break;
    std::string ddl = step.script;
    for (size_t p; (p = ddl.find("{PK}")) != std::string::npos;) ddl.replace(p, 4, "INTEGER PRIMARY KEY");
    ASSERT_TRUE(c.ExecScript(ddl).ok()) << step.version;
  }
}

TEST_F(SchemaUpgradeTest, V4CatalogGetsTheQidoColumnsAndIsBackfilled) {
  {
    auto db = OpenSqliteDatabase(path_);
    auto conn = (*db)->Acquire(true);
    RunStepsUpTo(**conn, 4);
    ASSERT_TRUE((*conn)->ExecScript(
        "INSERT INTO schema_version (version) VALUES (4);"
        "INSERT INTO patients VALUES (1, 'P1', '', 'Doe^P1', 'DOE^P1', '', '');"
        "INSERT INTO studies VALUES (1, '1.2.3', 1, '20240101', '', '', '', '', '', '', 'CT', 1, 1, 100, 5);"
        "INSERT INTO series VALUES (1, '1.2.3.1', 1, 'CT', 1, '', '', '', '', 1, 100);"
        "INSERT INTO instances VALUES (1, '1.2.3.1.1', 1, 1, '1.2.840.10008.5.1.4.1.1.2', 1, 0, 0, 0,"
        " '1.2.840.10008.1.2.1', 100, 'aaaaaaaaaaaaaaaa', 5, 0, 'x/1.2.3.1.1.aaaaaaaa.dcm', '', 0, 0, '', '', '')")
                    .ok());
  }
  ASSERT_EQ(Version(), 4);
  auto cat = OpenCatalog({"sqlite:" + path_});
  ASSERT_TRUE(cat.ok()) << cat.status().ToString();
  EXPECT_EQ(Version(), kCatalogSchemaVersion);
  auto pending = (*cat)->ListInstancesWithoutHeader(10);
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].sop_uid, "1.2.3.1.1");
  EXPECT_EQ((*pending)[0].bits_allocated, 0);

  InstanceRecord filled;
  filled.sop_uid = "1.2.3.1.1";
  filled.bits_allocated = 16;
  filled.timezone_offset = "-0500";
  filled.pps_start_date = "20240101";
  filled.pps_start_time = "0930";
  filled.request_attributes = "SPS\x1fRP";
  filled.header_json = R"({"00101010":{"vr":"AS","Value":["042Y"]}})";
  ASSERT_TRUE((*cat)->UpdateHeaderAttributes({filled}).ok());
  EXPECT_TRUE((*cat)->ListInstancesWithoutHeader(10)->empty());

  Query q;
  q.level = QueryLevel::kInstance;
  q.with_header = true;
  auto found = (*cat)->Find(q);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), 1u);
  auto& m = (*found)[0];
  EXPECT_EQ(m[tags::kBitsAllocated], "16");
  EXPECT_EQ(m[tags::kTimezoneOffsetFromUTC], "-0500");
  EXPECT_EQ(m[tags::kPerformedProcedureStepStartDate], "20240101");
  EXPECT_EQ(m[tags::kPerformedProcedureStepStartTime], "0930");
  EXPECT_EQ(m[tags::kRequestAttributesSequence], "SPS\x1fRP");
  EXPECT_EQ(m[tags::kHeaderJson], filled.header_json);
  // Study level: the header of the study's first instance.
  q.level = QueryLevel::kStudy;
  found = (*cat)->Find(q);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ((*found)[0][tags::kHeaderJson], filled.header_json);
  EXPECT_EQ((*found)[0][tags::kTimezoneOffsetFromUTC], "-0500");
}

// A merge may renumber the v6 step: a catalog whose version row already says 6 (or more,
// written by a build where another step took number 6) but lacks the columns still gets them.
TEST_F(SchemaUpgradeTest, ProbedStepRunsByWhatItAddsNotByNumber) {
  {
    auto db = OpenSqliteDatabase(path_);
    auto conn = (*db)->Acquire(true);
    // Steps 1-5 ran, and a build whose own step took number 6 recorded version 6: the QIDO
    // columns are missing; 7 and 8 run by number, the QIDO step by its probe.
    RunStepsUpTo(**conn, 5);
    ASSERT_TRUE((*conn)->ExecScript("INSERT INTO schema_version (version) VALUES (6)").ok());
  }
  auto cat = OpenCatalog({"sqlite:" + path_});
  ASSERT_TRUE(cat.ok()) << cat.status().ToString();
  EXPECT_TRUE((*cat)->ListInstancesWithoutHeader(1).ok());
  Query q;
  q.level = QueryLevel::kInstance;
  EXPECT_TRUE((*cat)->Find(q).ok());
  cat->reset();
  // And a catalog that has them is not altered twice.
  auto again = OpenCatalog({"sqlite:" + path_});
  EXPECT_TRUE(again.ok()) << again.status().ToString();
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
