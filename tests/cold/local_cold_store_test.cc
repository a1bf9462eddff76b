// LocalColdStore: the shared conformance suite, plus what only a directory has - its layout,
// leftovers of crashes (temp files, staging dirs without marker), file-system conflicts -
// and the OpenColdStore factory.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <thread>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cold/local_cold_store.h"
#include "cold_store_conformance.h"
#include "util/file_util.h"

namespace strata {
namespace {

namespace fs = std::filesystem;

std::string MakeTempDir() {
  std::string tmpl = (fs::temp_directory_path() / "strata-cold-XXXXXX").string();
  char* d = mkdtemp(tmpl.data());
  return d ? std::string(d) : std::string();
}

ColdStoreTarget LocalTarget() {
  ColdStoreTarget t;
  t.name = "Local";
  t.fresh = [](ColdStoreOptions* o, std::string* why) {
    std::string dir = MakeTempDir();
    if (dir.empty()) {
      *why = "mkdtemp failed";
      return false;
    }
    o->url = "file:" + dir + "/store";
    return true;
  };
  t.cleanup = [](const ColdStoreOptions& o) {
    std::error_code ec;
    fs::remove_all(fs::path(o.url.substr(5)).parent_path(), ec);
  };
  return t;
}

INSTANTIATE_TEST_SUITE_P(Local, ColdStoreConformance, ::testing::Values(LocalTarget()),
                         ConformanceTargetName);

class LocalColdStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    ASSERT_FALSE(dir_.empty());
    root_ = dir_ + "/cold";
    auto s = LocalColdStore::Open(root_, /*min_part_size=*/1024);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // Every entry under the root, relative, sorted ("a/", "a/b").
  std::vector<std::string> Tree() const {
    std::vector<std::string> out;
    for (auto& e : fs::recursive_directory_iterator(root_)) {
      std::string rel = fs::relative(e.path(), root_).string();
      out.push_back(e.is_directory() ? rel + "/" : rel);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string dir_, root_;
  std::unique_ptr<LocalColdStore> store_;
};

TEST_F(LocalColdStoreTest, ObjectsAreFilesUnderTheRoot) {
  ASSERT_TRUE(store_->Put("a/b/c", "hello").ok());
  EXPECT_EQ(Tree(), (std::vector<std::string>{"a/", "a/b/", "a/b/c"}));  // no temp files left
  EXPECT_EQ(ReadFile(root_ + "/a/b/c").value(), "hello");
  EXPECT_EQ(store_->Describe(), "local:" + root_);
}

TEST_F(LocalColdStoreTest, DeleteRemovesDirectoriesLeftEmpty) {
  ASSERT_TRUE(store_->Put("a/b/c", "1").ok());
  ASSERT_TRUE(store_->Put("a/d", "2").ok());
  ASSERT_TRUE(store_->Delete("a/b/c").ok());
  EXPECT_EQ(Tree(), (std::vector<std::string>{"a/", "a/d"}));
  ASSERT_TRUE(store_->Delete("a/d").ok());
  EXPECT_TRUE(Tree().empty());
  EXPECT_TRUE(fs::is_directory(root_));
}

TEST_F(LocalColdStoreTest, MultipartStagingLayout) {
  auto up = store_->StartUpload("x/obj");
  ASSERT_TRUE(up.ok());
  auto pending = store_->ListPendingUploads("");
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  const std::string staging = root_ + "/.uploads/" + pending->front().upload_id;
  auto marker = nlohmann::json::parse(ReadFile(staging + "/upload.json").value());
  EXPECT_EQ(marker["key"], "x/obj");
  EXPECT_EQ(marker["initiated_ms"], pending->front().initiated_ms);
  ASSERT_TRUE((*up)->PutPart(1, std::string(1024, 'a')).ok());
  ASSERT_TRUE((*up)->PutPart(2, "b").ok());
  EXPECT_EQ(ReadFile(staging + "/part-00002").value(), "b");
  ASSERT_TRUE((*up)->Complete().ok());
  EXPECT_FALSE(fs::exists(staging));
  EXPECT_EQ(Tree(), (std::vector<std::string>{".uploads/", "x/", "x/obj"}));
  EXPECT_EQ(fs::file_size(root_ + "/x/obj"), 1025u);
}

TEST_F(LocalColdStoreTest, AbortedUploadLosesItsStagingDir) {
  auto up = store_->StartUpload("x/obj");
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->PutPart(1, "data").ok());
  ASSERT_TRUE((*up)->Abort().ok());
  EXPECT_EQ(Tree(), (std::vector<std::string>{".uploads/"}));
}

TEST_F(LocalColdStoreTest, UploadAbortedFromOutsideFailsCleanly) {
  auto up = store_->StartUpload("x/obj");
  ASSERT_TRUE(up.ok());
  auto pending = store_->ListPendingUploads("x/").value();
  ASSERT_EQ(pending.size(), 1u);
  ASSERT_TRUE(store_->AbortPendingUpload(pending[0]).ok());  // e.g. another node's cleanup
  EXPECT_EQ((*up)->PutPart(1, "data").code(), Status::Code::kNotFound);
  EXPECT_EQ((*up)->Complete().code(), Status::Code::kNotFound);
  EXPECT_FALSE(fs::exists(root_ + "/x/obj"));
}

TEST_F(LocalColdStoreTest, TempFileOfAnInterruptedPutIsPendingNotListed) {
  ASSERT_TRUE(store_->Put("x/real", "r").ok());
  const std::string tmp = root_ + "/x/.tmp-0123456789abcdef-obj.zip";
  { std::ofstream(tmp) << "half written"; }
  EXPECT_EQ(store_->List("").value().size(), 1u);
  auto pending = store_->ListPendingUploads("x/o");
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ(pending->front().key, "x/obj.zip");
  EXPECT_EQ(pending->front().upload_id, "tmp:x/.tmp-0123456789abcdef-obj.zip");
  EXPECT_GT(pending->front().initiated_ms, 0);
  EXPECT_TRUE(store_->ListPendingUploads("y/").value().empty());
  ASSERT_TRUE(store_->AbortPendingUpload(pending->front()).ok());
  EXPECT_FALSE(fs::exists(tmp));
  EXPECT_TRUE(fs::exists(root_ + "/x/real"));
}

TEST_F(LocalColdStoreTest, StagingDirWithoutMarkerIsFoundByAFullSweep) {
  const std::string id(32, 'a');
  fs::create_directories(root_ + "/.uploads/" + id);
  { std::ofstream(root_ + "/.uploads/" + id + "/part-00001") << "x"; }
  EXPECT_TRUE(store_->ListPendingUploads("x").value().empty());
  auto all = store_->ListPendingUploads("");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().key, "");
  EXPECT_EQ(all->front().upload_id, id);
  ASSERT_TRUE(store_->AbortPendingUpload(all->front()).ok());
  EXPECT_FALSE(fs::exists(root_ + "/.uploads/" + id));
}

TEST_F(LocalColdStoreTest, AbortPendingUploadOnlyTouchesItsOwnFiles) {
  ASSERT_TRUE(store_->Put("x/keep", "k").ok());
  for (const std::string& id : std::vector<std::string>{
           "", "../../etc", "tmp:../x", "tmp:x/keep", "tmp:/etc/passwd",
           "tmp:a/../.tmp-0123456789abcdef-x", std::string(32, 'g'), "ABCDEF"}) {
    EXPECT_EQ(store_->AbortPendingUpload({"x/keep", id, 0}).code(),
              Status::Code::kInvalidArgument) << id;
  }
  EXPECT_TRUE(fs::exists(root_ + "/x/keep"));
}

TEST_F(LocalColdStoreTest, KeyThatIsAlsoADirectoryConflicts) {
  ASSERT_TRUE(store_->Put("a/b", "file").ok());
  EXPECT_EQ(store_->Put("a/b/c", "x").code(), Status::Code::kConflict);
  ASSERT_TRUE(store_->Put("x/y/z", "file").ok());
  EXPECT_EQ(store_->Put("x/y", "x").code(), Status::Code::kConflict);
  EXPECT_EQ(store_->Head("x/y").status().code(), Status::Code::kNotFound);  // a directory
  EXPECT_EQ(store_->Get("x/y").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(store_->Get("a/b/c").status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(store_->Delete("x/y").ok());
  EXPECT_TRUE(fs::exists(root_ + "/x/y/z"));
  EXPECT_EQ(Tree(), (std::vector<std::string>{"a/", "a/b", "x/", "x/y/", "x/y/z"}));
}

TEST_F(LocalColdStoreTest, ConcurrentPutsAndDeletesInOneDirectory) {
  // Delete prunes empty directories while Puts create files in them: every Put must land.
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        std::string key = "d/e/k" + std::to_string(t) + "-" + std::to_string(i);
        Status put = store_->Put(key, "v");
        if (!put.ok()) {
          ++failures;
          ADD_FAILURE() << "Put " << key << ": " << put.ToString();
        }
        if (i % 2 == 0) {
          Status del = store_->Delete(key);
          if (!del.ok()) {
            ++failures;
            ADD_FAILURE() << "Delete " << key << ": " << del.ToString();
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store_->List("d/").value().size(), 400u);
}

TEST(OpenColdStoreTest, ChoosesTheStoreByScheme) {
  std::string dir = MakeTempDir();
  ASSERT_FALSE(dir.empty());
  const std::vector<std::pair<std::string, std::string>> urls = {
      {"file:" + dir + "/a", dir + "/a"}, {"file://" + dir + "/b", dir + "/b"}, {dir + "/c", dir + "/c"}};
  for (const auto& [url, path] : urls) {
    ColdStoreOptions o;
    o.url = url;
    auto s = OpenColdStore(o);
    ASSERT_TRUE(s.ok()) << url << ": " << s.status().ToString();
    EXPECT_EQ((*s)->Describe(), "local:" + path);
    EXPECT_TRUE((*s)->Put("k", "v").ok());
    EXPECT_TRUE(fs::exists(path + "/k")) << url;
  }
  ColdStoreOptions s3;
  s3.url = "s3://my-bucket/some/prefix/";
  s3.endpoint = "http://127.0.0.1:1";
  s3.access_key = "AK";
  s3.secret_key = "SK";
  auto opened = OpenColdStore(s3);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ((*opened)->Describe(), "s3://my-bucket/some/prefix@http://127.0.0.1:1");
  EXPECT_EQ((*opened)->min_part_size(), 5u << 20);

  for (std::string url : {"", "ftp://host/x", "file://relative", "s3://", "s3://Bad_Bucket",
                          "s3://bucket/../x"}) {
    ColdStoreOptions o = s3;
    o.url = url;
    EXPECT_EQ(OpenColdStore(o).status().code(), Status::Code::kInvalidArgument) << url;
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST(OpenColdStoreTest, S3CredentialsComeFromOptionsOrEnvironment) {
  ColdStoreOptions o;
  o.url = "s3://bucket";
  o.endpoint = "http://127.0.0.1:1";
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  auto missing = OpenColdStore(o);
  EXPECT_EQ(missing.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
  setenv("AWS_ACCESS_KEY_ID", "AK", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "SK", 1);
  EXPECT_TRUE(OpenColdStore(o).ok());
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
}

}  // namespace
}  // namespace strata
