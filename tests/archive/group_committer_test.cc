// GroupCommitter when the catalog cannot say whether a commit happened (kUnknownOutcome):
// each store is answered from a read-back, never blindly. The catalog is a real SQLite one
// behind a wrapper that loses the answer of AddInstances (after or instead of committing)
// and can make the read-back fail.
#include "archive/group_committer.h"
#include "util/env.h"
#include "../index/forwarding_catalog.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "util/env.h"

namespace strata {
namespace {

class LosingCatalog : public ForwardingCatalog {
 public:
  explicit LosingCatalog(std::unique_ptr<Catalog> real) : ForwardingCatalog(std::move(real)) {}
  enum class Mode { kPass, kCommitThenLose, kLoseWithoutCommit };
  Mode mode = Mode::kPass;
  bool fail_reads = false;

  Result<std::vector<AddResult>> AddInstances(const std::vector<InstanceRecord>& r, bool replace) override {
    if (mode == Mode::kLoseWithoutCommit) return Status::UnknownOutcome("answer lost (not committed)");
    auto res = real()->AddInstances(r, replace);
    if (mode == Mode::kCommitThenLose && res.ok()) return Status::UnknownOutcome("answer lost (committed)");
    return res;
  }
  Result<InstanceRecord> GetInstance(const std::string& sop) override {
    if (fail_reads) return Status::Unavailable("catalog unreachable");
    return real()->GetInstance(sop);
  }
};

InstanceRecord Record(const std::string& sop, const std::string& checksum) {
  InstanceRecord r;
  r.patient_id = "P1";
  r.study_uid = "1.2.3";
  r.series_uid = "1.2.3.4";
  r.sop_uid = sop;
  r.sop_class_uid = "1.2.840.10008.5.1.4.1.1.2";
  r.transfer_syntax = "1.2.840.10008.1.2.1";
  r.size = 100;
  r.checksum = checksum;
  r.location.hot_path = "x/" + sop + "." + checksum.substr(0, 8) + ".dcm";
  return r;
}

class GroupCommitterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("strata-gc-" + std::to_string(getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "hot" / "x");
    std::filesystem::create_directories(dir_ / "incoming");
    auto c = OpenCatalog({"sqlite:" + (dir_ / "c.db").string()});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cat_ = std::make_unique<LosingCatalog>(std::move(c).value());
    gc_ = std::make_unique<GroupCommitter>(cat_.get(), Env::Default(), (dir_ / "hot").string(), false);
  }
  void TearDown() override {
    gc_.reset();
    cat_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::unique_ptr<LosingCatalog> cat_;
  std::unique_ptr<GroupCommitter> gc_;
  Result<AddResult> Commit(const InstanceRecord& r) { return gc_->Commit(r); }
};

TEST_F(GroupCommitterTest, CommittedButAnswerLostIsAnsweredAdded) {
  cat_->mode = LosingCatalog::Mode::kCommitThenLose;
  auto r = Commit(Record("1.2.3.4.1", "aaaaaaaaaaaaaaaa"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome, AddOutcome::kAdded);
}

TEST_F(GroupCommitterTest, LostAndNotCommittedIsARetryableFailure) {
  cat_->mode = LosingCatalog::Mode::kLoseWithoutCommit;
  auto r = Commit(Record("1.2.3.4.2", "bbbbbbbbbbbbbbbb"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kUnavailable) << r.status().ToString();
}

TEST_F(GroupCommitterTest, UnknownAndUnreadableStaysUnknownSoTheFileIsKept) {
  cat_->mode = LosingCatalog::Mode::kCommitThenLose;
  cat_->fail_reads = true;
  auto r = Commit(Record("1.2.3.4.3", "cccccccccccccccc"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kUnknownOutcome) << r.status().ToString();
}

TEST_F(GroupCommitterTest, SameBytesElsewhereIsIdenticalWithThePreviousRow) {
  ASSERT_TRUE(Commit(Record("1.2.3.4.4", "dddddddddddddddd")).ok());
  InstanceRecord again = Record("1.2.3.4.4", "dddddddddddddddd");
  again.location.hot_path = "elsewhere.dcm";
  cat_->mode = LosingCatalog::Mode::kCommitThenLose;
  auto r = Commit(again);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome, AddOutcome::kIdentical);
  ASSERT_TRUE(r->previous.has_value());
  EXPECT_NE(r->previous->location.hot_path, "elsewhere.dcm");  // StoreFile removes only its own copy
}

TEST_F(GroupCommitterTest, OtherContentStoredIsARetryableFailure) {
  ASSERT_TRUE(Commit(Record("1.2.3.4.5", "eeeeeeeeeeeeeeee")).ok());
  cat_->mode = LosingCatalog::Mode::kCommitThenLose;  // the add finds a conflict, "commits" nothing
  auto r = Commit(Record("1.2.3.4.5", "ffffffffffffffff"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kUnavailable) << r.status().ToString();
}

TEST_F(GroupCommitterTest, ABatchIsReadBackRecordByRecord) {
  cat_->mode = LosingCatalog::Mode::kLoseWithoutCommit;
  std::vector<std::thread> threads;
  std::vector<Status> got(8);
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      got[i] = Commit(Record("1.2.3.4.6" + std::to_string(i), "1111111111111111")).status();
    });
  for (auto& t : threads) t.join();
  for (const auto& s : got) EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
}

}  // namespace
}  // namespace strata
