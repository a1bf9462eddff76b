// The correction records of archive/correction_log.h: a round trip of both kinds, the order
// ReadCorrectionRecords gives (the order the changes were made, not the keys' order), and a
// record that does not parse is kCorruption, never guessed.
#include "archive/correction_log.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "cold/local_cold_store.h"
#include "model/attributes.h"

namespace strata {
namespace {

class CorrectionLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "strata-corrlog-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto s = LocalColdStore::Open(dir_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    cold_ = std::move(s).value();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static CorrectionChange Correct(const std::string& study, int64_t at_ms) {
    CorrectionChange c;
    c.kind = "correct";
    c.at_ms = at_ms;
    c.seq = 1;
    c.study_uid = study;
    c.changes = {{tags::kPatientName, "Roe^Jane"}, {tags::kAccessionNumber, ""}, {tags::kStudyDescription, "CT \"x\" é"}};
    c.who = "tester";
    c.reason = "wrong name";
    return c;
  }
  static CorrectionChange Merge(int64_t at_ms) {
    CorrectionChange c;
    c.kind = "merge";
    c.at_ms = at_ms;
    c.from_id = "P1";
    c.from_issuer = "";
    c.to_id = "P2";
    c.to_issuer = "HOSP";
    c.who = "admin";
    return c;
  }

  std::string dir_;
  std::unique_ptr<LocalColdStore> cold_;
};

TEST_F(CorrectionLogTest, RoundTrip) {
  for (const CorrectionChange& c : {Correct("1.2.3.4", 1700000000123), Merge(1700000000456)}) {
    const std::string key = CorrectionRecordKey(c);
    EXPECT_EQ(key.rfind(c.kind == "merge" ? "corrections/patients/1700000000456-" : "corrections/1.2.3.4/1700000000123-", 0),
              0u) << key;
    auto back = ParseCorrectionChange(SerializeCorrectionChange(c), key);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->kind, c.kind);
    EXPECT_EQ(back->at_ms, c.at_ms);
    EXPECT_EQ(back->seq, c.seq);
    EXPECT_EQ(back->who, c.who);
    EXPECT_EQ(back->reason, c.reason);
    EXPECT_EQ(back->study_uid, c.study_uid);
    EXPECT_EQ(back->changes, c.changes);
    EXPECT_EQ(back->from_id, c.from_id);
    EXPECT_EQ(back->from_issuer, c.from_issuer);
    EXPECT_EQ(back->to_id, c.to_id);
    EXPECT_EQ(back->to_issuer, c.to_issuer);
  }
}

TEST_F(CorrectionLogTest, ReadInTheOrderMade) {
  // A merge after a correction after a merge; the keys sort otherwise ("1.2..." < "patients").
  const CorrectionChange a = Merge(1000), b = Correct("1.2.3.4", 2000), c = Merge(3000);
  for (const auto* ch : {&c, &a, &b}) ASSERT_TRUE(WriteCorrectionRecord(cold_.get(), CorrectionRecordKey(*ch), *ch).ok());
  auto all = ReadCorrectionRecords(cold_.get());
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].at_ms, 1000);
  EXPECT_EQ((*all)[1].kind, "correct");
  EXPECT_EQ((*all)[2].at_ms, 3000);
  // Within one millisecond the process's sequence decides.
  const CorrectionChange x = NewCorrectionChange("merge"), y = NewCorrectionChange("correct");
  EXPECT_LE(x.at_ms, y.at_ms);
  EXPECT_LT(x.seq, y.seq);
}

TEST_F(CorrectionLogTest, UnparsableIsCorruption) {
  const std::string good = SerializeCorrectionChange(Correct("1.2.3.4", 5));
  for (const std::string& bad : {std::string("{not json"), std::string("{}"), good.substr(0, good.size() / 2),
                                 std::string(R"({"format":"strata-correction-1","kind":"delete","at_ms":1,"who":"","reason":""})"),
                                 std::string(R"({"format":"strata-correction-1","kind":"correct","at_ms":1,"who":"","reason":"",)"
                                             R"("study_uid":"1.2.3.4","changes":[{"tag":"00080060","value":"MR"}]})"),
                                 std::string(R"({"format":"strata-correction-1","kind":"correct","at_ms":1,"who":"","reason":"",)"
                                             R"("study_uid":"1..2","changes":[{"tag":"00100010","value":"X"}]})"),
                                 std::string(R"({"format":"strata-correction-1","kind":"merge","at_ms":"1","who":"","reason":""})")}) {
    auto r = ParseCorrectionChange(bad, "k");
    EXPECT_EQ(r.status().code(), Status::Code::kCorruption) << bad;
  }
  ASSERT_TRUE(cold_->Put("corrections/1.2.3.4/1-bad.json", "garbage").ok());
  ASSERT_TRUE(WriteCorrectionRecord(cold_.get(), CorrectionRecordKey(Merge(9)), Merge(9)).ok());
  auto all = ReadCorrectionRecords(cold_.get());
  EXPECT_EQ(all.status().code(), Status::Code::kCorruption);
  EXPECT_NE(all.status().ToString().find("corrections/1.2.3.4/1-bad.json"), std::string::npos) << all.status().ToString();
}

}  // namespace
}  // namespace strata
