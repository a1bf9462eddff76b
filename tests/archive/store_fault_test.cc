// The store path (StoreFile + GroupCommitter) with a FaultEnv injected through ArchiveDeps:
// a failed fdatasync/directory fsync or a full disk fails the store and leaves nothing behind, and a crash at any
// file operation loses no acknowledged instance (issue 10: "the seam").
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "archive/archive.h"
#include "archive_test_util.h"
#include "util/fault_env.h"

namespace strata {
namespace {

namespace fs = std::filesystem;
using testing::ListFiles;
using testing::MakeInstance;

const char kStudy[] = "1.2.826.0.1.3680043.10.99.1";
const char kSeries[] = "1.2.826.0.1.3680043.10.99.1.1";
std::string Sop(int i) { return std::string(kSeries) + "." + std::to_string(i + 1); }

class StoreFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / ("strata-archive-" + std::to_string(getpid()))).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Opens the archive as "process" START of this test (each reopen is a new process whose
  // predecessors are dead).
  std::unique_ptr<Archive> Open(Env* env, uint64_t start) {
    ArchiveOptions o;
    o.hot_dir = dir_ + "/hot";
    o.catalog.url = "sqlite:" + dir_ + "/c.db";
    o.cold.url = "file:" + dir_ + "/cold";
    o.hot.owner.pid = getpid();
    o.hot.owner.start_time = start;
    o.hot.is_alive = [](const ProcessOwner&) { return false; };
    ArchiveDeps deps;
    deps.env = env;
    auto a = Archive::Open(o, std::move(deps));
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? std::move(a).value() : nullptr;
  }
  std::vector<std::string> DcmFiles() {
    std::vector<std::string> out;
    for (const auto& f : ListFiles(dir_ + "/hot"))
      if (f.size() > 4 && f.compare(f.size() - 4, 4, ".dcm") == 0) out.push_back(f);
    return out;
  }
  std::string dir_;
};

// A failed fdatasync of the received file, or a failed fsync of a directory its name lives
// in (the layout chain or the incoming directory): nothing is acknowledged, nothing is left.
class FailedSyncTest : public StoreFaultTest, public ::testing::WithParamInterface<FaultRule> {};

TEST_P(FailedSyncTest, FailsTheStoreAndLeavesNoFileNorRow) {
  FaultEnv env(Env::Default());
  auto a = Open(&env, 1);
  ASSERT_TRUE(a);
  env.AddFault(GetParam());
  const std::string bytes = MakeInstance(kStudy, kSeries, Sop(0), 0);
  auto r = a->StoreBytes(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kIOError) << r.status().ToString();
  auto rows = a->Locate(kStudy, kSeries, Sop(0));
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());
  EXPECT_TRUE(DcmFiles().empty());
  // The fault was transient: the re-send succeeds and reads back.
  ASSERT_TRUE(a->StoreBytes(bytes).ok());
  rows = a->Locate(kStudy, kSeries, Sop(0));
  ASSERT_TRUE(rows.ok() && rows->size() == 1);
  EXPECT_EQ(a->Read(rows->front()).value(), bytes);
}

INSTANTIATE_TEST_SUITE_P(
    StoreFault, FailedSyncTest,
    ::testing::Values(
        // StoreBytes' own WriteFileAtomic syncs the temp file once; the second sync of a
        // ".part" path is the store's fdatasync before the rename.
        FaultRule{FaultOp::kSync, Status::IOError("EIO"), 1, 1, 1.0, ".part"},
        FaultRule{FaultOp::kSyncDir, Status::IOError("EIO"), 0, 1, 1.0, kSeries},   // the file's directory
        FaultRule{FaultOp::kSyncDir, Status::IOError("EIO"), 0, 1, 1.0, kStudy}));  // a level above

TEST_F(StoreFaultTest, NoSpaceOnTheRenameFailsWithNoSpaceAndLeavesNothing) {
  FaultEnv env(Env::Default());
  auto a = Open(&env, 1);
  ASSERT_TRUE(a);
  env.AddFault({FaultOp::kRename, Status::NoSpace("ENOSPC"), 0, -1, 1.0, ".dcm"});
  auto r = a->StoreBytes(MakeInstance(kStudy, kSeries, Sop(0), 0));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNoSpace) << r.status().ToString();
  EXPECT_TRUE(ListFiles(dir_ + "/hot").empty());
  EXPECT_TRUE(a->Locate(kStudy, "", "").value().empty());
}

TEST_F(StoreFaultTest, NoSpaceWhileReceivingLeavesNothing) {
  FaultEnv env(Env::Default());
  auto a = Open(&env, 1);
  ASSERT_TRUE(a);
  env.AddFault({FaultOp::kAppend, Status::NoSpace("ENOSPC"), 0, -1, 1.0, ""});
  auto r = a->StoreBytes(MakeInstance(kStudy, kSeries, Sop(0), 0));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNoSpace) << r.status().ToString();
  EXPECT_TRUE(ListFiles(dir_ + "/hot").empty());
}

// After a crash and a restart (with the reconcile start-up runs): every acknowledged instance
// reads back bit-identical, an unacknowledged one is absent or catalogued with the bytes sent,
// every row reads back, and no file is left that no row references.
void CheckAfterCrash(Archive* a, const std::string& hot, const std::map<std::string, std::string>& sent,
                     const std::set<std::string>& acked, const std::string& where) {
  ReconcileReport rep;
  ASSERT_TRUE(a->ReconcileHot(0, &rep).ok()) << where;
  auto rows = a->Locate(kStudy, "", "");
  ASSERT_TRUE(rows.ok()) << where;
  std::set<std::string> referenced, present;
  for (const auto& r : rows.value()) {
    present.insert(r.sop_uid);
    referenced.insert(r.location.hot_path);
    auto bytes = a->Read(r);
    ASSERT_TRUE(bytes.ok()) << where << ": " << r.sop_uid << ": " << bytes.status().ToString();
    EXPECT_EQ(bytes.value(), sent.at(r.sop_uid)) << where << ": " << r.sop_uid;
  }
  for (const auto& sop : acked) EXPECT_TRUE(present.count(sop)) << where << ": acknowledged " << sop << " lost";
  std::set<std::string> files;
  for (const auto& f : ListFiles(hot)) files.insert(f);
  EXPECT_EQ(files, referenced) << where << ": files no row references (or rows without files)";
}

TEST_F(StoreFaultTest, CrashAtEveryFileOperationLosesNothingAcknowledged) {
  constexpr int kInstances = 4;
  std::map<std::string, std::string> sent;
  for (int i = 0; i < kInstances; ++i) sent[Sop(i)] = MakeInstance(kStudy, kSeries, Sop(i), i);
  // How many file operations a clean run takes.
  uint64_t total = 0;
  {
    FaultEnv env(Env::Default());
    auto a = Open(&env, 1);
    ASSERT_TRUE(a);
    const uint64_t before = env.mutating_ops();
    for (const auto& [sop, bytes] : sent) ASSERT_TRUE(a->StoreBytes(bytes).ok());
    total = env.mutating_ops() - before;
  }
  ASSERT_GT(total, 10u);
  RecordProperty("crash_points", static_cast<int>(total));
  for (uint64_t k = 1; k <= total; ++k) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::set<std::string> acked;
    {
      FaultEnv env(Env::Default());
      auto a = Open(&env, 1);
      ASSERT_TRUE(a);
      env.CrashAfter(k);
      for (const auto& [sop, bytes] : sent)
        if (a->StoreBytes(bytes).ok()) acked.insert(sop);
      a.reset();  // the process is gone
      ASSERT_TRUE(env.SimulateCrash().ok());
    }
    auto b = Open(Env::Default(), 2);
    ASSERT_TRUE(b);
    CheckAfterCrash(b.get(), dir_ + "/hot", sent, acked, "crash after operation " + std::to_string(k));
    if (HasFatalFailure() || HasFailure()) return;
  }
}

TEST_F(StoreFaultTest, CrashDuringConcurrentGroupCommitsLosesNothingAcknowledged) {
  constexpr int kThreads = 4, kPerThread = 3;
  std::map<std::string, std::string> sent;
  for (int i = 0; i < kThreads * kPerThread; ++i) sent[Sop(i)] = MakeInstance(kStudy, kSeries, Sop(i), i);
  for (uint64_t k = 5; k <= 120; k += 7) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::set<std::string> acked;
    std::mutex mu;
    {
      FaultEnv env(Env::Default(), k);
      auto a = Open(&env, 1);
      ASSERT_TRUE(a);
      env.CrashAfter(k);
      std::vector<std::thread> threads;
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
          for (int j = 0; j < kPerThread; ++j) {
            const std::string sop = Sop(t * kPerThread + j);
            if (a->StoreBytes(sent.at(sop)).ok()) {
              std::lock_guard<std::mutex> lk(mu);
              acked.insert(sop);
            }
          }
        });
      }
      for (auto& th : threads) th.join();
      a.reset();
      ASSERT_TRUE(env.SimulateCrash().ok());
    }
    auto b = Open(Env::Default(), 2);
    ASSERT_TRUE(b);
    CheckAfterCrash(b.get(), dir_ + "/hot", sent, acked, "concurrent, crash after operation " + std::to_string(k));
    if (HasFailure()) return;
  }
}

}  // namespace
}  // namespace strata
