// DurableDirs: a batch syncs the directories its files went into and, up the chain, only the
// levels this process does not know durable; a crash right after SyncNames keeps every file
// (FaultEnv: a directory whose own name is not durable loses what it holds).
#include "hot/durable_dirs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "util/fault_env.h"
#include "util/file_util.h"

namespace strata {
namespace {

class DurableDirsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (std::filesystem::temp_directory_path() / ("strata-durable-dirs-" + std::to_string(getpid()) + "-" +
                                                        ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                .string();
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);  // exists before the FaultEnv: durable
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::string P(const std::string& rel) const { return JoinPath(root_, rel); }
  // Places a synced file at REL, creating its directories unsynced (as HotStore::Place does).
  void Place(const std::string& rel) {
    std::string dir;
    const std::string rel_dir = DirName(rel);
    size_t pos = 0;
    while (pos < rel_dir.size()) {
      size_t next = rel_dir.find('/', pos);
      if (next == std::string::npos) next = rel_dir.size();
      dir = rel_dir.substr(0, next);
      ASSERT_TRUE(env_.CreateDir(P(dir)).ok());
      pos = next + 1;
    }
    auto f = env_.NewWritableFile(P(rel));
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    ASSERT_TRUE((*f)->Append("instance " + rel).ok());
    ASSERT_TRUE((*f)->Sync().ok());
    ASSERT_TRUE((*f)->Close().ok());
  }
  bool Exists(const std::string& rel) { return std::filesystem::exists(P(rel)); }
  bool HasBirthTimes() {
    auto id = Env::Default()->DirectoryIdentity(root_);
    return id.ok() && id->birth_ns >= 0;
  }

  std::string root_;
  FaultEnv env_{Env::Default()};
};

TEST_F(DurableDirsTest, FirstFileSyncsTheChainLaterFilesOnlyTheirDirectory) {
  DurableDirs dirs(&env_, root_);
  Place("ab/cd/st/se/1.dcm");
  ASSERT_TRUE(dirs.SyncNames({"ab/cd/st/se/1.dcm"}).ok());
  EXPECT_EQ(dirs.dir_syncs(), 5u);  // se (the file), st, cd, ab, the root
  Place("ab/cd/st/se/2.dcm");
  Place("ab/cd/st/se/3.dcm");
  ASSERT_TRUE(dirs.SyncNames({"ab/cd/st/se/2.dcm", "ab/cd/st/se/3.dcm"}).ok());
  if (HasBirthTimes()) EXPECT_EQ(dirs.dir_syncs(), 6u);  // one directory for both
  Place("ab/cd/st/se2/4.dcm");                           // a new series of the same study
  ASSERT_TRUE(dirs.SyncNames({"ab/cd/st/se2/4.dcm"}).ok());
  if (HasBirthTimes()) EXPECT_EQ(dirs.dir_syncs(), 8u);  // se2 and st
  ASSERT_TRUE(env_.SimulateCrash().ok());
  for (const char* f : {"ab/cd/st/se/1.dcm", "ab/cd/st/se/2.dcm", "ab/cd/st/se/3.dcm", "ab/cd/st/se2/4.dcm"})
    EXPECT_TRUE(Exists(f)) << f;
}

TEST_F(DurableDirsTest, ADirectoryAnotherWriterMadeIsSyncedUpTheChain) {
  // Another process made the chain and has not synced it yet; our file in it must survive.
  ASSERT_TRUE(env_.CreateDir(P("ab")).ok());
  ASSERT_TRUE(env_.CreateDir(P("ab/cd")).ok());
  ASSERT_TRUE(env_.CreateDir(P("ab/cd/st")).ok());
  ASSERT_TRUE(env_.CreateDir(P("ab/cd/st/se")).ok());
  DurableDirs dirs(&env_, root_);
  Place("ab/cd/st/se/1.dcm");
  ASSERT_TRUE(dirs.SyncNames({"ab/cd/st/se/1.dcm"}).ok());
  ASSERT_TRUE(env_.SimulateCrash().ok());
  EXPECT_TRUE(Exists("ab/cd/st/se/1.dcm"));
}

TEST_F(DurableDirsTest, SyncingOnlyTheFilesDirectoryWouldLoseIt) {
  // The model is strict enough to catch a missing level (so the tests above can fail).
  Place("ab/cd/st/se/1.dcm");
  ASSERT_TRUE(env_.SyncDir(P("ab/cd/st/se")).ok());
  ASSERT_TRUE(env_.SimulateCrash().ok());
  EXPECT_FALSE(Exists("ab/cd/st/se/1.dcm"));
}

TEST_F(DurableDirsTest, ADirectoryRemovedAndMadeAgainIsSyncedAgain) {
  DurableDirs dirs(&env_, root_);
  Place("ab/cd/st/se/1.dcm");
  ASSERT_TRUE(dirs.SyncNames({"ab/cd/st/se/1.dcm"}).ok());
  // The study goes (migrated; the reconciler removed the empty directories) and comes back.
  ASSERT_TRUE(env_.RemoveFile(P("ab/cd/st/se/1.dcm")).ok());
  ASSERT_TRUE(env_.RemoveDir(P("ab/cd/st/se")).ok());
  ASSERT_TRUE(env_.RemoveDir(P("ab/cd/st")).ok());
  ASSERT_TRUE(env_.SyncDir(P("ab/cd")).ok());
  const uint64_t before = dirs.dir_syncs();
  Place("ab/cd/st/se/2.dcm");
  ASSERT_TRUE(dirs.SyncNames({"ab/cd/st/se/2.dcm"}).ok());
  EXPECT_GE(dirs.dir_syncs() - before, 3u);  // se, st and cd at least
  ASSERT_TRUE(env_.SimulateCrash().ok());
  EXPECT_TRUE(Exists("ab/cd/st/se/2.dcm"));
}

TEST_F(DurableDirsTest, AFailedSyncFailsTheBatchAndTeachesNothing) {
  DurableDirs dirs(&env_, root_);
  Place("ab/cd/st/se/1.dcm");
  FaultRule rule;
  rule.op = FaultOp::kSyncDir;
  rule.path_contains = "/ab/cd";
  env_.AddFault(rule);
  EXPECT_FALSE(dirs.SyncNames({"ab/cd/st/se/1.dcm"}).ok());
  env_.ClearFaults();
  const uint64_t before = dirs.dir_syncs();
  ASSERT_TRUE(dirs.SyncNames({"ab/cd/st/se/1.dcm"}).ok());
  EXPECT_EQ(dirs.dir_syncs() - before, 5u);  // the whole chain again
  ASSERT_TRUE(env_.SimulateCrash().ok());
  EXPECT_TRUE(Exists("ab/cd/st/se/1.dcm"));
}

}  // namespace
}  // namespace strata
