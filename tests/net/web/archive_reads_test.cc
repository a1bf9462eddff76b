// Reading instances through a real Archive (SQLite catalog, hot directory, local cold store):
// headers by ranged reads, the retry when an instance moved to a pack after it was listed, and
// /metadata with its cache.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <nlohmann/json.hpp>

#include "../../archive/temp_archive_test.h"
#include "net/web/header_reader.h"
#include "net/web/metadata.h"
#include "test_files.h"
#include "util/checksum.h"
#include "util/file_util.h"

namespace strata::web {
namespace {

class ArchiveReadsTest : public TempArchiveTest {
 protected:
  ArchiveReadsTest() : TempArchiveTest("web") {}
  // Stores an image (with an extra large element before Pixel Data when BIG_HEADER) and
  // returns its catalog row and bytes.
  std::pair<InstanceRecord, std::string> Store(const std::string& sop, bool big_header = false) {
    auto ff = testing::MakeImage(16, 16, 1);
    DcmDataset* ds = ff->getDataset();
    ds->putAndInsertString(DCM_SOPInstanceUID, sop.c_str());
    ds->putAndInsertString(DCM_PatientID, "P1");
    if (big_header) {
      std::string profile(100000, '\x5a');
      ds->putAndInsertUint8Array(DCM_ICCProfile, reinterpret_cast<const Uint8*>(profile.data()), profile.size());
    }
    std::string bytes = testing::ToPart10(*ff, EXS_LittleEndianExplicit);
    auto stored = archive_->StoreBytes(bytes);
    EXPECT_TRUE(stored.ok()) << stored.status().ToString();
    auto rows = archive_->Locate("1.2.3.4", "1.2.3.4.5", sop);
    EXPECT_TRUE(rows.ok() && rows->size() == 1);
    return {rows->front(), bytes};
  }
};

TEST_F(ArchiveReadsTest, HeaderWithoutPixelData) {
  auto [rec, bytes] = Store("1.2.3.4.5.6.1", /*big_header=*/true);  // header larger than the first read
  auto header = ReadInstanceHeader(archive_.get(), rec);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  DcmDataset* ds = (*header)->getDataset();
  EXPECT_FALSE(ds->tagExists(DCM_PixelData));
  const Uint8* icc = nullptr;
  unsigned long n = 0;
  ASSERT_TRUE(ds->findAndGetUint8Array(DCM_ICCProfile, icc, &n).good());
  EXPECT_EQ(n, 100000u);
  OFString id;
  ds->findAndGetOFString(DCM_PatientID, id);
  EXPECT_EQ(std::string(id.c_str()), "P1");
}

TEST_F(ArchiveReadsTest, FollowsAnInstanceThatMovedToAPack) {
  auto [rec, bytes] = Store("1.2.3.4.5.6.2");
  // What the converter does, by hand: the bytes go into an object, the catalog switches the
  // row to it in one transaction, the hot file is deleted. REC is now stale.
  const std::string key = "packs/aa/1.2.3.4/1-0123456789abcdef.zip";
  ASSERT_TRUE(archive_->cold()->Put(key, "PK" + bytes).ok());
  PackRecord pack{key, "1.2.3.4", 1, bytes.size() + 2, 1, Xxh3Hex(bytes), 1};
  Location loc;
  loc.tier = Location::Tier::kCold;
  loc.pack_key = key;
  loc.offset = 2;
  loc.length = bytes.size();
  loc.entry_checksum = Xxh3Hex(bytes);
  loc.entry_syntax = "1.2.840.10008.1.2.1";
  auto token = archive_->catalog()->ClaimMigration("1.2.3.4", "test", key, 60'000);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto switched = archive_->catalog()->SwitchToPack(pack, MigrationFence{"1.2.3.4", *token}, {rec.sop_uid},
                                                    {rec.location}, {loc});
  ASSERT_TRUE(switched.ok()) << switched.status().ToString();
  ASSERT_TRUE(switched->at(0));
  ASSERT_TRUE(archive_->hot()->Remove(rec.location.hot_path).ok());

  auto direct = archive_->Read(rec);  // the archive itself follows the stale row to the pack
  ASSERT_TRUE(direct.ok()) << direct.status().ToString();
  EXPECT_EQ(*direct, bytes);
  auto again = ReadInstance(archive_.get(), rec);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, bytes);
  auto header = ReadInstanceHeader(archive_.get(), rec);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_TRUE((*header)->getDataset()->tagExists(DCM_PatientName));
}

// Archive::ReadHeaderPrefix's contract: a prefix that is the whole object is checked against
// the checksum; a partial prefix must be the start of this instance at its catalogued size.
TEST_F(ArchiveReadsTest, HeaderPrefixesAreVerified) {
  const std::string hot_dir = archive_->options().hot_dir;
  // A small file is read whole: a changed byte anywhere (here in the patient ID) is caught.
  {
    auto [rec, bytes] = Store("1.2.3.4.5.6.10");
    std::string bad = bytes;
    const size_t at = bad.find("P1");
    ASSERT_NE(at, std::string::npos);
    bad[at] = 'Q';
    ASSERT_TRUE(WriteFileAtomic(hot_dir + "/" + rec.location.hot_path, bad).ok());
    uint64_t total = 0;
    EXPECT_EQ(archive_->ReadHeaderPrefix(rec, 1 << 20, &total).status().code(), Status::Code::kCorruption);
    EXPECT_FALSE(ReadInstanceHeader(archive_.get(), rec).ok());
  }
  // A large one is read by prefix: it must be this instance's start, at the catalogued size.
  auto big = [&](const std::string& sop) {
    auto ff = testing::MakeImage(256, 256, 1);  // 128 KiB of pixels: past the first header read
    ff->getDataset()->putAndInsertString(DCM_SOPInstanceUID, sop.c_str());
    return testing::ToPart10(*ff, EXS_LittleEndianExplicit);
  };
  const std::string a = big("1.2.3.4.5.6.11"), b = big("1.2.3.4.5.6.12");
  ASSERT_EQ(a.size(), b.size());
  ASSERT_TRUE(archive_->StoreBytes(a).ok());
  auto rows = archive_->Locate("1.2.3.4", "1.2.3.4.5", "1.2.3.4.5.6.11");
  ASSERT_TRUE(rows.ok() && rows->size() == 1);
  const InstanceRecord rec = rows->front();
  const std::string path = hot_dir + "/" + rec.location.hot_path;
  uint64_t total = 0;
  auto good = archive_->ReadHeaderPrefix(rec, 4096, &total);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(*good, a.substr(0, 4096));
  EXPECT_EQ(total, a.size());
  ASSERT_TRUE(ReadInstanceHeader(archive_.get(), rec).ok());
  // Another instance's bytes of the same size under this path: refused.
  ASSERT_TRUE(WriteFileAtomic(path, b).ok());
  EXPECT_EQ(archive_->ReadHeaderPrefix(rec, 4096, &total).status().code(), Status::Code::kCorruption);
  EXPECT_FALSE(ReadInstanceHeader(archive_.get(), rec).ok());
  // Cut short (or grown): refused.
  ASSERT_TRUE(WriteFileAtomic(path, a.substr(0, a.size() - 100)).ok());
  EXPECT_EQ(archive_->ReadHeaderPrefix(rec, 4096, &total).status().code(), Status::Code::kCorruption);
  // Not a DICOM file any more: refused.
  ASSERT_TRUE(WriteFileAtomic(path, std::string(a.size(), 'x')).ok());
  EXPECT_EQ(archive_->ReadHeaderPrefix(rec, 4096, &total).status().code(), Status::Code::kCorruption);
  // Gone: not found (the caller asks the catalog whether it moved).
  ASSERT_TRUE(archive_->hot()->Remove(rec.location.hot_path).ok());
  EXPECT_TRUE(archive_->ReadHeaderPrefix(rec, 4096, &total).status().IsNotFound());
  // Restored: fine again.
  ASSERT_TRUE(WriteFileAtomic(path, a).ok());
  EXPECT_TRUE(archive_->ReadHeaderPrefix(rec, 4096, &total).ok());
}

TEST_F(ArchiveReadsTest, MetadataIsCached) {
  auto a = Store("1.2.3.4.5.6.3");
  auto b = Store("1.2.3.4.5.6.4");
  MetadataService service(archive_.get(), 1 << 20, 4);
  auto body = service.Build({a.first, b.first}, "http://h:1");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  auto j = nlohmann::json::parse(*body);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["00080018"]["Value"][0], "1.2.3.4.5.6.3");
  EXPECT_EQ(j[1]["00080018"]["Value"][0], "1.2.3.4.5.6.4");
  EXPECT_EQ(j[0]["00083002"]["Value"][0], "1.2.840.10008.1.2.1");
  EXPECT_EQ(j[0]["7FE00010"]["BulkDataURI"],
            "http://h:1/dicomweb/studies/1.2.3.4/series/1.2.3.4.5/instances/1.2.3.4.5.6.3/bulkdata/7FE00010");
  EXPECT_EQ(service.stats().misses, 2u);
  // The second time no file is opened: the hot files can even be gone.
  ASSERT_TRUE(archive_->hot()->Remove(a.first.location.hot_path).ok());
  auto again = service.Build({a.first, b.first}, "http://h:1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *body);
  EXPECT_EQ(service.stats().hits, 2u);
  // A missing file of an instance the catalog lists is "unavailable", not "not found".
  MetadataService cold_cache(archive_.get(), 1 << 20, 2);
  EXPECT_EQ(cold_cache.Build({a.first}, "http://h:1").status().code(), Status::Code::kUnavailable);
}

}  // namespace
}  // namespace strata::web
