// Archive::ReconcileHot (issue 10, defect 10): files renamed into the hot tier whose store was
// never acknowledged are re-indexed (complete, unknown SOP Instance UID) or removed, past a
// grace period; referenced files, young files and the incoming area are never touched.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "archive/archive.h"
#include "archive_test_util.h"
#include "dicom/dataset_reader.h"
#include "util/checksum.h"
#include "util/file_util.h"

namespace strata {
namespace {

namespace fs = std::filesystem;
using testing::MakeInstance;

const char kStudy[] = "1.2.826.0.1.3680043.10.99.2";
const char kSeries[] = "1.2.826.0.1.3680043.10.99.2.1";

class ReconcileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / ("strata-reconcile-" + std::to_string(getpid()))).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ArchiveOptions o;
    o.hot_dir = dir_ + "/hot";
    o.catalog.url = "sqlite:" + dir_ + "/c.db";
    o.cold.url = "file:" + dir_ + "/cold";
    auto a = Archive::Open(o);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    archive_ = std::move(a).value();
  }
  void TearDown() override {
    archive_.reset();
    fs::remove_all(dir_);
  }
  // Puts BYTES into the layout the way a store does before its commit (no row), named for
  // the full bytes FULL; AGE_S in the past.
  std::string Orphan(const std::string& full, const std::string& bytes, int age_s) {
    InstanceRecord r;
    EXPECT_TRUE(ReadInstanceAttributesFromBuffer(full, &r).ok());
    r.checksum = Xxh3Hex(full);
    const std::string rel = HotStore::NewRelativePath(r);
    const std::string abs = archive_->hot()->AbsolutePath(rel);
    fs::create_directories(fs::path(abs).parent_path());
    std::ofstream(abs, std::ios::binary) << bytes;
    Age(abs, age_s);
    return rel;
  }
  static void Age(const std::string& path, int age_s) {
    fs::last_write_time(path, fs::file_time_type::clock::now() - std::chrono::seconds(age_s));
  }
  bool Exists(const std::string& rel) { return fs::exists(archive_->hot()->AbsolutePath(rel)); }
  std::string dir_;
  std::unique_ptr<Archive> archive_;
};

TEST_F(ReconcileTest, ReindexesOrRemovesUnreferencedFilesPastTheGrace) {
  const int64_t hour = 3600 * 1000;
  const std::string a_sop = std::string(kSeries) + ".1";
  const std::string a = MakeInstance(kStudy, kSeries, a_sop, 1);
  ASSERT_TRUE(archive_->StoreBytes(a).ok());
  const InstanceRecord stored = archive_->Locate(kStudy, kSeries, a_sop).value().at(0);
  Age(archive_->hot()->AbsolutePath(stored.location.hot_path), 7200);

  const std::string b = MakeInstance(kStudy, kSeries, std::string(kSeries) + ".2", 2);
  const std::string complete = Orphan(b, b, 7200);            // no row for its UID: re-index
  const std::string other = MakeInstance(kStudy, kSeries, a_sop, 3);
  const std::string superseded = Orphan(other, other, 7200);  // its UID has a row elsewhere
  const std::string c = MakeInstance(kStudy, kSeries, std::string(kSeries) + ".3", 4);
  const std::string cut = Orphan(c, c.substr(0, c.size() - 40), 7200);  // data never synced
  const std::string young_bytes = MakeInstance(kStudy, kSeries, std::string(kSeries) + ".4", 5);
  const std::string young = Orphan(young_bytes, young_bytes, 5);  // maybe a store in flight
  const std::string tmp = DirName(complete) + "/x.dcm.tmp-1-2-3";
  std::ofstream(archive_->hot()->AbsolutePath(tmp)) << "half";
  Age(archive_->hot()->AbsolutePath(tmp), 7200);
  const std::string empty_dir = archive_->hot()->AbsolutePath("ab/cd/1.9/1.9.1");
  fs::create_directories(empty_dir);
  for (const char* d : {"ab/cd/1.9/1.9.1", "ab/cd/1.9", "ab/cd", "ab"}) Age(archive_->hot()->AbsolutePath(d), 7200);
  const std::string incoming = archive_->hot()->incoming_dir() + "/in-flight.part";
  std::ofstream(incoming) << "partial";
  Age(incoming, 7200);

  // verify --hot: a dry run lists what the catalog does not know and changes nothing.
  ReconcileReport dry;
  ASSERT_TRUE(archive_->ReconcileHot(hour, &dry, /*dry_run=*/true).ok());
  EXPECT_EQ(dry.unknown.size(), 4u);
  EXPECT_TRUE(Exists(complete) && Exists(superseded) && Exists(cut) && Exists(tmp));
  EXPECT_TRUE(archive_->Locate(kStudy, kSeries, std::string(kSeries) + ".2").value().empty());

  ReconcileReport rep;
  ASSERT_TRUE(archive_->ReconcileHot(hour, &rep).ok());
  EXPECT_EQ(rep.reindexed, 1u);
  EXPECT_EQ(rep.removed, 2u);
  EXPECT_EQ(rep.temp_removed, 1u);
  EXPECT_EQ(rep.young, 1u);
  EXPECT_EQ(rep.referenced, 1u);
  EXPECT_GE(rep.dirs_removed, 4u);
  EXPECT_FALSE(fs::exists(archive_->hot()->AbsolutePath("ab")));
  EXPECT_FALSE(Exists(superseded));
  EXPECT_FALSE(Exists(cut));
  EXPECT_FALSE(Exists(tmp));
  EXPECT_TRUE(Exists(young));
  EXPECT_TRUE(fs::exists(incoming));
  // The stored instance is untouched; the re-indexed one reads back with its bytes.
  EXPECT_EQ(archive_->Read(stored).value(), a);
  auto rows = archive_->Locate(kStudy, kSeries, std::string(kSeries) + ".2").value();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].location.hot_path, complete);
  EXPECT_EQ(archive_->Read(rows[0]).value(), b);

  // Nothing left to do, and with no grace the young one is taken in as well.
  ReconcileReport again;
  ASSERT_TRUE(archive_->ReconcileHot(hour, &again, true).ok());
  EXPECT_TRUE(again.unknown.empty());
  ReconcileReport now;
  ASSERT_TRUE(archive_->ReconcileHot(0, &now).ok());
  EXPECT_EQ(now.reindexed, 1u);
  EXPECT_EQ(archive_->Locate(kStudy, "", "").value().size(), 3u);
}

}  // namespace
}  // namespace strata
