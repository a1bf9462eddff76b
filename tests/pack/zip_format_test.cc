// The ZIP record encoders and decoders: exact layouts, ZIP64 fields, and refusal of
// truncated or inconsistent records.
#include "pack/zip_format.h"

#include <gtest/gtest.h>

namespace strata::zip {
namespace {

StoredFile File(bool zip64_sizes, bool zip64_offset) {
  StoredFile f;
  f.name = "1.2.3/1.2.3.4.dcm";
  f.crc32 = 0xDEADBEEF;
  f.size = 123456;
  f.local_header_offset = 987654;
  f.zip64_sizes = zip64_sizes;
  f.zip64_offset = zip64_offset;
  return f;
}

TEST(ZipFormat, LocalHeaderRoundTrip) {
  for (bool z : {false, true}) {
    StoredFile f = File(z, false);
    std::string h = EncodeLocalHeader(f);
    EXPECT_EQ(h.size(), LocalHeaderSize(f.name, z));
    EXPECT_EQ(h.size(), 30 + f.name.size() + (z ? 20 : 0));
    auto d = DecodeLocalHeader(h + "trailing data");
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ(d->name, f.name);
    EXPECT_EQ(d->crc32, f.crc32);
    EXPECT_EQ(d->compressed_size, f.size);
    EXPECT_EQ(d->uncompressed_size, f.size);
    EXPECT_EQ(d->method, 0);
    EXPECT_EQ(d->flags, 0);
    EXPECT_EQ(d->zip64_sizes, z);
    EXPECT_EQ(d->version_needed, z ? 45 : 20);
    EXPECT_EQ(d->header_size, h.size());
    if (z) {  // both 32-bit sizes are the sentinel; the real ones are in the extra field
      EXPECT_EQ(h.substr(18, 8), std::string(8, '\xFF'));
    }
  }
}

TEST(ZipFormat, CentralHeaderRoundTrip) {
  for (bool zs : {false, true}) {
    for (bool zo : {false, true}) {
      StoredFile f = File(zs, zo);
      std::string h = EncodeCentralHeader(f);
      size_t extra = (zs || zo) ? 4 + (zs ? 16 : 0) + (zo ? 8 : 0) : 0;
      EXPECT_EQ(h.size(), 46 + f.name.size() + extra);
      auto d = DecodeCentralHeader(h + "next");
      ASSERT_TRUE(d.ok()) << d.status().ToString();
      EXPECT_EQ(d->name, f.name);
      EXPECT_EQ(d->uncompressed_size, f.size);
      EXPECT_EQ(d->compressed_size, f.size);
      EXPECT_EQ(d->local_header_offset, f.local_header_offset);
      EXPECT_EQ(d->zip64_sizes, zs);
      EXPECT_EQ(d->zip64_offset, zo);
      EXPECT_EQ(d->record_size, h.size());
      EXPECT_EQ(d->version_made_by >> 8, 3);  // Unix
    }
  }
}

TEST(ZipFormat, LargeValuesUseZip64) {
  StoredFile f = File(true, true);
  f.size = (5ull << 30) + 17;
  f.local_header_offset = (7ull << 30) + 3;
  auto d = DecodeCentralHeader(EncodeCentralHeader(f));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->uncompressed_size, f.size);
  EXPECT_EQ(d->local_header_offset, f.local_header_offset);
  auto l = DecodeLocalHeader(EncodeLocalHeader(f));
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->uncompressed_size, f.size);
  EXPECT_TRUE(NeedsZip64(0xFFFFFFFFull));
  EXPECT_FALSE(NeedsZip64(0xFFFFFFFEull));
}

TEST(ZipFormat, EndRecords) {
  EndRecordsInfo small{3, 1000, 200, false};
  EXPECT_FALSE(EndNeedsZip64(small));
  std::string e = EncodeEndRecords(small);
  ASSERT_EQ(e.size(), kEndSize);
  auto d = DecodeEndRecord(e);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->entries, 3);
  EXPECT_EQ(d->cd_offset, 1000u);
  EXPECT_EQ(d->cd_size, 200u);
  EXPECT_EQ(d->comment_length, 0);

  for (EndRecordsInfo big : {EndRecordsInfo{70000, 1000, 200000, false},
                             EndRecordsInfo{3, 1000, 200, true},
                             EndRecordsInfo{3, 5ull << 30, 200, false}}) {
    EXPECT_TRUE(EndNeedsZip64(big));
    std::string b = EncodeEndRecords(big);
    ASSERT_EQ(b.size(), kZip64EndSize + kZip64LocatorSize + kEndSize);
    auto z = DecodeZip64End(b);
    ASSERT_TRUE(z.ok());
    EXPECT_EQ(z->entries, big.entries);
    EXPECT_EQ(z->entries_on_disk, big.entries);
    EXPECT_EQ(z->cd_size, big.cd_size);
    EXPECT_EQ(z->cd_offset, big.cd_offset);
    EXPECT_EQ(z->record_size, 44u);
    auto loc = DecodeZip64Locator(std::string_view(b).substr(kZip64EndSize));
    ASSERT_TRUE(loc.ok());
    EXPECT_EQ(loc->end_offset, big.cd_offset + big.cd_size);
    EXPECT_EQ(loc->total_disks, 1u);
    auto end = DecodeEndRecord(std::string_view(b).substr(kZip64EndSize + kZip64LocatorSize));
    ASSERT_TRUE(end.ok());
    if (big.force_zip64 || big.entries >= 0xFFFF) {
      EXPECT_EQ(end->entries, 0xFFFF);
    }
  }
}

TEST(ZipFormat, DosDateTime) {
  uint16_t date, time;
  DosDateTime(1709642096, &date, &time);  // 2024-03-05T12:34:56Z
  EXPECT_EQ(date, ((2024 - 1980) << 9) | (3 << 5) | 5);
  EXPECT_EQ(time, (12 << 11) | (34 << 5) | (56 / 2));
  DosDateTime(0, &date, &time);  // clamped to 1980-01-01
  EXPECT_EQ(date, (1 << 5) | 1);
  EXPECT_EQ(time, 0);
}

TEST(ZipFormat, TruncatedRecordsAreCorruption) {
  std::string local = EncodeLocalHeader(File(true, false));
  std::string central = EncodeCentralHeader(File(true, true));
  std::string end = EncodeEndRecords({3, 1000, 200, true});
  for (size_t n = 0; n < local.size(); ++n) {
    auto r = DecodeLocalHeader(local.substr(0, n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  }
  for (size_t n = 0; n < central.size(); ++n)
    EXPECT_FALSE(DecodeCentralHeader(central.substr(0, n)).ok()) << n;
  for (size_t n = 0; n < kZip64EndSize; ++n) EXPECT_FALSE(DecodeZip64End(end.substr(0, n)).ok());
  for (size_t n = 0; n < kZip64LocatorSize; ++n)
    EXPECT_FALSE(DecodeZip64Locator(end.substr(kZip64EndSize, n)).ok());
  for (size_t n = 0; n < kEndSize; ++n)
    EXPECT_FALSE(DecodeEndRecord(end.substr(kZip64EndSize + kZip64LocatorSize, n)).ok());
}

TEST(ZipFormat, MaskedValueWithoutZip64ExtraIsCorruption) {
  StoredFile f = File(false, true);
  std::string h = EncodeCentralHeader(f);
  // Drop the extra field: the offset stays masked with nothing to resolve it.
  h.resize(46 + f.name.size());
  h[30] = h[31] = 0;
  auto d = DecodeCentralHeader(h);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), Status::Code::kCorruption);
  EXPECT_NE(d.status().message().find("ZIP64"), std::string::npos);

  std::string l = EncodeLocalHeader(File(true, false));
  l[28] = 4;  // extra field shrinks to a 4-byte header claiming 16 bytes of data
  l.resize(30 + f.name.size() + 4);
  EXPECT_FALSE(DecodeLocalHeader(l).ok());
}

TEST(ZipFormat, WrongSignatureIsCorruption) {
  std::string local = EncodeLocalHeader(File(false, false));
  local[0] = 'X';
  EXPECT_EQ(DecodeLocalHeader(local).status().code(), Status::Code::kCorruption);
  std::string central = EncodeCentralHeader(File(false, false));
  central[3] = 9;
  EXPECT_EQ(DecodeCentralHeader(central).status().code(), Status::Code::kCorruption);
}

}  // namespace
}  // namespace strata::zip
