// HotStore: each process has its own incoming directory, and Init removes only those of dead
// processes of its node (issue 10, defect 1); Place never replaces a file; layout paths are
// unique per store.
#include "hot/hot_store.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "util/file_util.h"

namespace strata {
namespace {

namespace fs = std::filesystem;

class HotStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (fs::temp_directory_path() / ("strata-hot-" + std::to_string(getpid()))).string();
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  static void Touch(const std::string& path) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << "partial";
  }
  static HotStoreOptions Fake(int64_t pid, uint64_t start, std::function<bool(const ProcessOwner&)> alive) {
    HotStoreOptions o;
    o.owner.pid = pid;
    o.owner.start_time = start;
    o.is_alive = std::move(alive);
    return o;
  }
  std::string root_;
};

TEST_F(HotStoreTest, OwnerNamesRoundTrip) {
  ProcessOwner self = ProcessOwner::Self();
  EXPECT_EQ(self.pid, getpid());
  EXPECT_GT(self.start_time, 0u);
  EXPECT_TRUE(ProcessOwner::IsAlive(self));
  ProcessOwner back;
  ASSERT_TRUE(ProcessOwner::Parse(self.Name(), &back));
  EXPECT_EQ(back.pid, self.pid);
  EXPECT_EQ(back.start_time, self.start_time);
  EXPECT_FALSE(ProcessOwner::Parse("12-x", &back));
  EXPECT_FALSE(ProcessOwner::Parse("12", &back));
  ProcessOwner reused = self;
  reused.start_time += 1;  // same pid, another start: a different (dead) process
  EXPECT_FALSE(ProcessOwner::IsAlive(reused));
}

// Two live processes on one hot root: the second's Init must not touch the first's
// incoming file (before the fix it emptied the whole node directory).
TEST_F(HotStoreTest, InitKeepsTheIncomingFilesOfLiveProcesses) {
  auto all_alive = [](const ProcessOwner&) { return true; };
  HotStore a(Env::Default(), root_, "node1", Fake(100, 1, all_alive));
  ASSERT_TRUE(a.Init().ok());
  const std::string in_flight = a.NewIncomingPath();
  Touch(in_flight);
  HotStore b(Env::Default(), root_, "node1", Fake(200, 2, all_alive));
  ASSERT_TRUE(b.Init().ok());
  EXPECT_NE(a.incoming_dir(), b.incoming_dir());
  EXPECT_TRUE(fs::exists(in_flight));
  // Another node never touches node1's files, even if it thinks their owner is dead.
  HotStore other(Env::Default(), root_, "node2", Fake(100, 1, [](const ProcessOwner&) { return false; }));
  ASSERT_TRUE(other.Init().ok());
  EXPECT_TRUE(fs::exists(in_flight));
  // Once process 100 is dead, the next start on node1 removes its leftovers, and only them.
  const std::string b_file = b.NewIncomingPath();
  Touch(b_file);
  HotStore c(Env::Default(), root_, "node1",
             Fake(300, 3, [](const ProcessOwner& o) { return o.pid != 100; }));
  ASSERT_TRUE(c.Init().ok());
  EXPECT_FALSE(fs::exists(in_flight));
  EXPECT_FALSE(fs::exists(a.incoming_dir()));
  EXPECT_TRUE(fs::exists(b_file));
}

TEST_F(HotStoreTest, RealLivenessTellsDeadAndReusedPidsApart) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);  // its pid is gone now
  const std::string node = JoinPath(JoinPath(root_, ".incoming"), "n");
  ProcessOwner self = ProcessOwner::Self();
  const std::string dead = JoinPath(JoinPath(node, std::to_string(child) + "-12345"), "x.part");
  ProcessOwner reused = self;
  reused.start_time += 7;
  const std::string reused_file = JoinPath(JoinPath(node, reused.Name()), "y.part");
  const std::string live = JoinPath(JoinPath(node, self.Name()), "z.part");
  const std::string legacy_dead = JoinPath(node, std::to_string(child) + "-0-abcd.part");
  const std::string legacy_live = JoinPath(node, std::to_string(getpid()) + "-0-abcd.part");
  for (const auto& f : {dead, reused_file, live, legacy_dead, legacy_live}) Touch(f);
  HotStoreOptions o;  // real liveness, a fake identity of its own
  o.owner.pid = getpid();
  o.owner.start_time = self.start_time + 99;
  HotStore s(Env::Default(), root_, "n", o);
  ASSERT_TRUE(s.Init().ok());
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_FALSE(fs::exists(fs::path(dead).parent_path()));
  EXPECT_FALSE(fs::exists(reused_file));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_FALSE(fs::exists(legacy_dead));
  EXPECT_TRUE(fs::exists(legacy_live));
}

TEST_F(HotStoreTest, PlaceNeverReplacesAndPathsAreUnique) {
  HotStore s(Env::Default(), root_, "n");
  ASSERT_TRUE(s.Init().ok());
  InstanceRecord r;
  r.study_uid = "1.2.3";
  r.series_uid = "1.2.3.4";
  r.sop_uid = "1.2.3.4.5";
  r.checksum = "0123456789abcdef";
  const std::string p1 = HotStore::NewRelativePath(r), p2 = HotStore::NewRelativePath(r);
  EXPECT_NE(p1, p2);
  EXPECT_EQ(p1.rfind(".dcm"), p1.size() - 4);
  EXPECT_NE(p1.find("/1.2.3/1.2.3.4/1.2.3.4.5.01234567."), std::string::npos) << p1;
  const std::string t1 = s.NewIncomingPath(), t2 = s.NewIncomingPath();
  std::ofstream(t1) << "first";
  std::ofstream(t2) << "second";
  ASSERT_TRUE(s.Place(t1, p1).ok());
  Status again = s.Place(t2, p1);
  EXPECT_EQ(again.code(), Status::Code::kAlreadyExists) << again.ToString();
  EXPECT_EQ(s.Read(p1).value(), "first");
  EXPECT_TRUE(fs::exists(t2));
  ASSERT_TRUE(s.Remove(p1).ok());
  EXPECT_TRUE(s.Read(p1).status().IsNotFound());
}

}  // namespace
}  // namespace strata
