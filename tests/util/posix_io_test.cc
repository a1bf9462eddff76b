// The POSIX helpers of util/: temp names, descriptor loops, directory listings and walks.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "util/dir_walk.h"
#include "util/env.h"
#include "util/fd_io.h"
#include "util/file_util.h"
#include "util/temp_name.h"

namespace strata {
namespace {

namespace fs = std::filesystem;
using Code = Status::Code;

class PosixIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / ("strata-posix-io-" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
    ASSERT_TRUE(MakeDirs(dir_).ok());
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& rel) const { return dir_ + "/" + rel; }
  void Write(const std::string& rel, const std::string& data) {
    ASSERT_TRUE(MakeDirs(DirName(Path(rel))).ok());
    ASSERT_TRUE(WriteFileAtomic(Path(rel), data).ok());
  }
  std::string dir_;
};

TEST(TempNameTest, FormatAndParse) {
  const std::string t = TempName("obj.zip");
  ASSERT_EQ(t.size(), kTempPrefix.size() + kTempRandomHex + 1 + 7);
  EXPECT_EQ(t.substr(0, 5), ".tmp-");
  EXPECT_EQ(t.substr(t.size() - 8), "-obj.zip");
  std::string base;
  ASSERT_TRUE(ParseTempName(t, &base));
  EXPECT_EQ(base, "obj.zip");
  EXPECT_TRUE(ParseTempName(".tmp-0123456789abcdef-x"));
  for (const char* bad : {"obj.zip", ".tmp-0123456789abcdef-", ".tmp-0123456789ABCDEF-x", ".tmp-0123456789abcde-x",
                          ".tmp-0123456789abcdefx", "tmp-0123456789abcdef-x", ".tmp-0123456789abcdeg-x", ""}) {
    EXPECT_FALSE(ParseTempName(bad, &base)) << bad;
  }
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(TempName("a"));
  EXPECT_EQ(seen.size(), 1000u);  // 64 random bits each
}

TEST(TempNameTest, BesideItsFile) {
  const std::string t = TempPathBeside("/data/hot/x.part");
  EXPECT_EQ(t.substr(0, 10), "/data/hot/");
  std::string base;
  ASSERT_TRUE(ParseTempName(t.substr(10), &base));
  EXPECT_EQ(base, "x.part");
  std::string bare = TempPathBeside("name");
  ASSERT_TRUE(ParseTempName(bare, &base));
  EXPECT_EQ(base, "name");
}

TEST(TempNameTest, RandomHexDigits) {
  for (size_t n : {0u, 1u, 8u, 15u, 16u, 17u, 32u}) {
    const std::string h = RandomHex(n);
    EXPECT_EQ(h.size(), n);
    EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos) << h;
  }
  EXPECT_NE(RandomHex(32), RandomHex(32));
}

TEST_F(PosixIoTest, WriteAllAndPread) {
  const std::string p = Path("f");
  int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  std::string big(3u << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 + 7);
  ASSERT_TRUE(WriteAll(fd, big, p).ok());
  std::string buf(10, '\0');
  ASSERT_TRUE(PreadExact(fd, buf.data(), buf.size(), 1000, p).ok());
  EXPECT_EQ(buf, big.substr(1000, 10));
  // Up to the end: short, not an error.
  auto got = PreadUpTo(fd, buf.data(), buf.size(), big.size() - 4, p);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got.value(), 4u);
  EXPECT_EQ(buf.substr(0, 4), big.substr(big.size() - 4));
  EXPECT_EQ(PreadUpTo(fd, buf.data(), buf.size(), big.size() + 5, p).value(), 0u);
  // Exactly: short is corruption, naming the file.
  Status s = PreadExact(fd, buf.data(), buf.size(), big.size() - 4, p);
  EXPECT_EQ(s.code(), Code::kCorruption);
  EXPECT_NE(s.message().find(p), std::string::npos) << s.ToString();
  std::string all(big.size(), '\0');
  ASSERT_TRUE(PreadExact(fd, all.data(), all.size(), 0, p).ok());
  EXPECT_EQ(all, big);
  ::close(fd);
  // A closed descriptor is an error, not a short read.
  EXPECT_FALSE(PreadUpTo(fd, buf.data(), buf.size(), 0, p).ok());
  EXPECT_FALSE(WriteAll(fd, "x", p).ok());
}

TEST_F(PosixIoTest, AppendFileTo) {
  Write("a", "first-");
  Write("b", std::string(2u << 20, 'b'));
  const std::string out = Path("out");
  int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(WriteAll(fd, "head:", out).ok());
  ASSERT_TRUE(AppendFileTo(fd, Path("a"), out).ok());
  ASSERT_TRUE(AppendFileTo(fd, Path("b"), out).ok());
  EXPECT_TRUE(AppendFileTo(fd, Path("missing"), out).IsNotFound());
  ::close(fd);
  EXPECT_EQ(ReadFile(out).value(), "head:first-" + std::string(2u << 20, 'b'));
}

TEST_F(PosixIoTest, AtomicWritesLeaveNoTemp) {
  Write("x/f", "one");
  ASSERT_TRUE(WriteFileAtomic(Env::Default(), Path("x/f"), "two").ok());
  EXPECT_EQ(ReadFile(Path("x/f")).value(), "two");
  EXPECT_EQ(ListDirNames(Path("x")).value(), std::vector<std::string>{"f"});
  // A failed write (no such directory) leaves nothing either.
  EXPECT_FALSE(WriteFileAtomic(Path("nodir/f"), "z").ok());
  EXPECT_FALSE(WriteFileAtomic(Env::Default(), Path("nodir/f"), "z").ok());
  EXPECT_FALSE(fs::exists(Path("nodir")));
}

TEST_F(PosixIoTest, ListDirEntries) {
  Write("d/file", "12345");
  ASSERT_TRUE(MakeDirs(Path("d/sub")).ok());
  fs::create_symlink(Path("d/file"), Path("d/link"));
  auto entries = ListDirEntries(Path("d"));
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  std::sort(entries->begin(), entries->end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].name, "file");
  EXPECT_EQ((*entries)[0].type, DirEntry::Type::kFile);
  EXPECT_EQ((*entries)[0].size, 5u);
  EXPECT_GT((*entries)[0].mtime_ms(), 1'600'000'000'000);
  EXPECT_EQ((*entries)[1].name, "link");
  EXPECT_EQ((*entries)[1].type, DirEntry::Type::kOther);  // not followed
  EXPECT_EQ((*entries)[2].name, "sub");
  EXPECT_EQ((*entries)[2].type, DirEntry::Type::kDir);
  auto names = ListDirNames(Path("d"));
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(std::set<std::string>(names->begin(), names->end()), (std::set<std::string>{"file", "link", "sub"}));
  EXPECT_TRUE(ListDirEntries(Path("missing")).status().IsNotFound());
  EXPECT_TRUE(ListDirNames(Path("d/file")).status().IsNotFound());  // not a directory
  EXPECT_TRUE(ListDirNames(Path("missing")).status().IsNotFound());
  EXPECT_TRUE(Env::Default()->ListDir(Path("missing")).status().IsNotFound());

  auto st = StatPath(Path("d/link"));  // followed
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->name, "link");
  EXPECT_EQ(st->type, DirEntry::Type::kFile);
  EXPECT_EQ(st->size, 5u);
  EXPECT_TRUE(StatPath(Path("d/file/x")).status().IsNotFound());
  EXPECT_TRUE(StatPath(Path("nope")).status().IsNotFound());
}

TEST_F(PosixIoTest, WalkFilesDescendsWhereAsked) {
  Write("top", "t");
  Write("a/one", "1");
  Write("a/b/two", "22");
  Write("skip/three", "333");
  Write(".hidden/four", "4444");
  std::vector<std::string> seen;
  std::vector<std::string> asked;
  auto descend = [&](const std::string& rel_sub, const std::string& name) {
    asked.push_back(rel_sub);
    return name != "skip" && name[0] != '.';
  };
  Status s = WalkFiles(dir_, "", descend, [&](const std::string& rel_dir, const DirEntry& f) {
    seen.push_back((rel_dir.empty() ? "" : rel_dir + "/") + f.name + ":" + std::to_string(f.size));
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"a/b/two:2", "a/one:1", "top:1"}));
  std::sort(asked.begin(), asked.end());
  EXPECT_EQ(asked, (std::vector<std::string>{".hidden", "a", "a/b", "skip"}));
  // From a subdirectory: paths stay relative to the root.
  seen.clear();
  ASSERT_TRUE(WalkFiles(dir_, "a", descend, [&](const std::string& rel_dir, const DirEntry& f) {
                seen.push_back(rel_dir + "/" + f.name);
              }).ok());
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"a/b/two", "a/one"}));
  // A directory that is not there (removed meanwhile) is nothing to walk, not an error.
  seen.clear();
  EXPECT_TRUE(WalkFiles(dir_, "gone", descend, [&](const std::string&, const DirEntry&) { seen.push_back("x"); }).ok());
  EXPECT_TRUE(seen.empty());
}

}  // namespace
}  // namespace strata
