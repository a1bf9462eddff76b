// FaultEnv: injected faults hit the calls they name, and a simulated crash keeps exactly what
// was made durable (synced data; names whose directory was synced, or after a syncfs).
#include "util/fault_env.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "util/file_util.h"

namespace strata {
namespace {

class FaultEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / ("strata-faultenv-" + std::to_string(getpid()))).string();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string P(const std::string& name) const { return JoinPath(dir_, name); }
  // Creates NAME with DATA; SYNC syncs its data.
  void Write(const std::string& name, const std::string& data, bool sync) {
    auto f = env_.NewWritableFile(P(name));
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    ASSERT_TRUE((*f)->Append(data).ok());
    if (sync) {
      ASSERT_TRUE((*f)->Sync().ok());
    }
    ASSERT_TRUE((*f)->Close().ok());
  }
  std::string Content(const std::string& name) {
    auto r = Env::Default()->ReadFile(P(name));
    return r.ok() ? r.value() : "<" + r.status().ToString() + ">";
  }
  bool Exists(const std::string& name) { return std::filesystem::exists(P(name)); }

  std::string dir_;
  FaultEnv env_{Env::Default()};
};

TEST_F(FaultEnvTest, CrashDropsDataWrittenAfterTheLastSync) {
  auto f = env_.NewWritableFile(P("a"));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("durable").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE((*f)->Append("-lost").ok());
  ASSERT_TRUE((*f)->Close().ok());
  ASSERT_TRUE(env_.SyncDir(dir_).ok());  // the name is durable, the tail is not
  EXPECT_EQ(Content("a"), "durable-lost");
  ASSERT_TRUE(env_.SimulateCrash().ok());
  EXPECT_EQ(Content("a"), "durable");
}

TEST_F(FaultEnvTest, SyncFileByPathMakesTheDataDurableButNotTheName) {
  Write("by-path", "all of it", false);
  ASSERT_TRUE(env_.SyncFile(P("by-path")).ok());
  ASSERT_TRUE(env_.SimulateCrash().ok());
  EXPECT_FALSE(Exists("by-path"));  // its directory was never synced: the create is undone
  env_.Reset();
  Write("renamed", "data", false);
  ASSERT_TRUE(env_.SyncDir(dir_).ok());
  ASSERT_TRUE(std::filesystem::create_directories(P("sub")));
  ASSERT_TRUE(env_.RenameNoReplace(P("renamed"), P("sub/renamed")).ok());
  ASSERT_TRUE(env_.SyncFile(P("sub/renamed")).ok());  // tracked under its new name
  ASSERT_TRUE(env_.SyncDir(P("sub")).ok());
  ASSERT_TRUE(env_.SyncDir(dir_).ok());
  ASSERT_TRUE(env_.SimulateCrash().ok());
  EXPECT_EQ(Content("sub/renamed"), "data");
}

TEST_F(FaultEnvTest, FailedSyncFileLeavesTheDataUndurable) {
  Write("f", "bytes", false);
  ASSERT_TRUE(env_.SyncDir(dir_).ok());
  env_.AddFault({FaultOp::kSync, Status::IOError("EIO"), 0, 1, 1.0, "/f"});
  EXPECT_FALSE(env_.SyncFile(P("f")).ok());
  ASSERT_TRUE(env_.SimulateCrash().ok());
  EXPECT_EQ(Content("f"), "");
}

TEST_F(FaultEnvTest, CrashUndoesCreatesAndRenamesWhoseDirectoryWasNotSynced) {
  Write("synced-data-only", "x", true);
  Write("to-rename", "y", true);
  ASSERT_TRUE(env_.SyncDir(dir_).ok());
  ASSERT_TRUE(env_.RenameFile(P("to-rename"), P("renamed")).ok());
  ASSERT_TRUE(env_.CreateDir(P("newdir")).ok());
  Write("new-unsynced", "z", true);
  ASSERT_TRUE(env_.SimulateCrash().ok());
  EXPECT_EQ(Content("synced-data-only"), "x");
  EXPECT_TRUE(Exists("to-rename"));
  EXPECT_FALSE(Exists("renamed"));
  EXPECT_FALSE(Exists("newdir"));
  EXPECT_FALSE(Exists("new-unsynced"));
  EXPECT_EQ(env_.undone_by_last_crash(), 3u);
}

TEST_F(FaultEnvTest, AnUndurableDirectoryTakesItsSyncedFilesWithIt) {
  ASSERT_TRUE(env_.CreateDir(P("d")).ok());
  ASSERT_TRUE(env_.CreateDir(P("d/e")).ok());
  Write("d/e/f", "data", true);
  ASSERT_TRUE(env_.SyncDir(P("d/e")).ok());  // f's name in e, e's name in d: but d's own name is not durable
  ASSERT_TRUE(env_.SyncDir(P("d")).ok());
  ASSERT_TRUE(env_.SimulateCrash().ok());
  EXPECT_FALSE(Exists("d"));
}

TEST_F(FaultEnvTest, ARenameIntoASyncedDirectoryKeepsTheNewNameAndMayKeepTheOld) {
  ASSERT_TRUE(env_.CreateDir(P("in")).ok());
  ASSERT_TRUE(env_.CreateDir(P("out")).ok());
  ASSERT_TRUE(env_.SyncDir(dir_).ok());
  Write("in/f", "bytes", true);
  ASSERT_TRUE(env_.SyncDir(P("in")).ok());
  ASSERT_TRUE(env_.RenameFile(P("in/f"), P("out/f")).ok());
  ASSERT_TRUE(env_.SyncDir(P("out")).ok());  // only the new directory
  ASSERT_TRUE(env_.SimulateCrash().ok());
  EXPECT_EQ(Content("out/f"), "bytes");
  EXPECT_EQ(Content("in/f"), "bytes");  // the worst case a filesystem may leave: both names
}

TEST_F(FaultEnvTest, CrashBringsBackRemovedAndReplacedFiles) {
  Write("removed", "old bytes", true);
  Write("target", "old target", true);
  Write("source", "new target", true);
  ASSERT_TRUE(env_.SyncDir(dir_).ok());
  ASSERT_TRUE(env_.RemoveFile(P("removed")).ok());
  ASSERT_TRUE(env_.RenameFile(P("source"), P("target")).ok());  // replaces
  EXPECT_FALSE(Exists("removed"));
  EXPECT_EQ(Content("target"), "new target");
  ASSERT_TRUE(env_.SimulateCrash().ok());
  EXPECT_EQ(Content("removed"), "old bytes");
  EXPECT_EQ(Content("target"), "old target");
  EXPECT_EQ(Content("source"), "new target");
}

TEST_F(FaultEnvTest, SyncFilesystemMakesEverythingDurable) {
  ASSERT_TRUE(env_.MakeDirs(P("d1/d2")).ok());
  Write("d1/d2/f", "unsynced data", false);
  ASSERT_TRUE(env_.RenameNoReplace(P("d1/d2/f"), P("d1/g")).ok());
  ASSERT_TRUE(env_.SyncFilesystem(dir_).ok());
  ASSERT_TRUE(env_.SimulateCrash().ok());
  EXPECT_EQ(Content("d1/g"), "unsynced data");
  EXPECT_TRUE(std::filesystem::is_directory(P("d1/d2")));
  EXPECT_EQ(env_.undone_by_last_crash(), 0u);
}

TEST_F(FaultEnvTest, WritesAreRefusedAfterACrashUntilReset) {
  ASSERT_TRUE(env_.SimulateCrash().ok());
  EXPECT_FALSE(env_.NewWritableFile(P("x")).ok());
  EXPECT_FALSE(env_.CreateDir(P("d")).ok());
  EXPECT_FALSE(env_.SyncFilesystem(dir_).ok());
  env_.Reset();
  Write("x", "ok", false);
  EXPECT_EQ(Content("x"), "ok");
}

TEST_F(FaultEnvTest, CrashAfterNOperationsFreezesTheEnv) {
  env_.CrashAfter(3);
  auto f = env_.NewWritableFile(P("a"));  // 1
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE((*f)->Append("one").ok());  // 2
  EXPECT_TRUE((*f)->Sync().ok());         // 3: still happens
  EXPECT_FALSE((*f)->Append("two").ok());
  EXPECT_FALSE(env_.SyncDir(dir_).ok());
  EXPECT_EQ(env_.mutating_ops(), 3u);
  ASSERT_TRUE(env_.SimulateCrash().ok());
  EXPECT_FALSE(Exists("a"));  // its directory was never synced
}

TEST_F(FaultEnvTest, FaultsHitTheNamedOperationAfterTheCountdown) {
  env_.AddFault({FaultOp::kSync, Status::IOError("EIO"), /*skip=*/1, /*times=*/1, 1.0, ""});
  auto f = env_.NewWritableFile(P("a"));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("x").ok());
  EXPECT_TRUE((*f)->Sync().ok());  // skipped
  Status s = (*f)->Sync();
  EXPECT_TRUE(s.code() == Status::Code::kIOError) << s.ToString();
  EXPECT_TRUE((*f)->Sync().ok());  // times = 1
  ASSERT_TRUE((*f)->Close().ok());
}

TEST_F(FaultEnvTest, NoSpaceOnlyOnMatchingPaths) {
  env_.AddFault({FaultOp::kAppend, Status::NoSpace("ENOSPC"), 0, -1, 1.0, "full"});
  env_.AddFault({FaultOp::kRename, Status::NoSpace("ENOSPC"), 0, -1, 1.0, "full"});
  env_.AddFault({FaultOp::kMkdir, Status::NoSpace("ENOSPC"), 0, -1, 1.0, "full"});
  env_.AddFault({FaultOp::kCreate, Status::NoSpace("ENOSPC"), 0, -1, 1.0, "nocreate"});
  auto full = env_.NewWritableFile(P("full-file"));
  ASSERT_TRUE(full.ok());
  EXPECT_EQ((*full)->Append("x").code(), Status::Code::kNoSpace);
  EXPECT_EQ((*full)->Append("y").code(), Status::Code::kNoSpace);  // every time (times < 0)
  ASSERT_TRUE((*full)->Close().ok());
  Write("fine", "ok", false);
  EXPECT_EQ(env_.RenameFile(P("fine"), P("full-name")).code(), Status::Code::kNoSpace);
  EXPECT_TRUE(env_.RenameFile(P("fine"), P("other")).ok());
  EXPECT_EQ(env_.CreateDir(P("full-dir")).code(), Status::Code::kNoSpace);
  EXPECT_EQ(env_.NewWritableFile(P("nocreate")).status().code(), Status::Code::kNoSpace);
  EXPECT_FALSE(Exists("nocreate"));
}

TEST_F(FaultEnvTest, ProbabilityFailsSomeCalls) {
  env_.AddFault({FaultOp::kSyncDir, Status::IOError("EIO"), 0, -1, 0.5, ""});
  int failed = 0;
  for (int i = 0; i < 200; ++i) failed += env_.SyncDir(dir_).ok() ? 0 : 1;
  EXPECT_GT(failed, 50);
  EXPECT_LT(failed, 150);
  env_.ClearFaults();
  EXPECT_TRUE(env_.SyncDir(dir_).ok());
}

TEST_F(FaultEnvTest, RenameNoReplaceRefusesAnExistingTarget) {
  Write("a", "a", true);
  Write("b", "b", true);
  EXPECT_EQ(env_.RenameNoReplace(P("a"), P("b")).code(), Status::Code::kAlreadyExists);
  EXPECT_EQ(Content("b"), "b");
  EXPECT_EQ(Content("a"), "a");
}

TEST_F(FaultEnvTest, WriteFileAtomicSurvivesACrashRightAfterIt) {
  ASSERT_TRUE(WriteFileAtomic(&env_, P("atomic"), "whole").ok());
  ASSERT_TRUE(env_.SimulateCrash().ok());
  EXPECT_EQ(Content("atomic"), "whole");
}

}  // namespace
}  // namespace strata
