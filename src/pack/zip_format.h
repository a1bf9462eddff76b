// Byte-level encoding and decoding of the ZIP records a pack uses (PKWARE APPNOTE 6.3): local
// file header, central directory header, ZIP64 extended information, ZIP64 end of central
// directory record and locator, end of central directory record. Only stored members.
// Contract: encoders produce exactly the records docs/pack-format.md describes; decoders check
// every length against the buffer they are given, never read past it, and return Corruption
// on anything malformed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace strata::zip {

inline constexpr uint32_t kLocalHeaderSignature = 0x04034b50;
inline constexpr uint32_t kCentralHeaderSignature = 0x02014b50;
inline constexpr uint32_t kZip64EndSignature = 0x06064b50;
inline constexpr uint32_t kZip64LocatorSignature = 0x07064b50;
inline constexpr uint32_t kEndSignature = 0x06054b50;

inline constexpr size_t kLocalHeaderFixedSize = 30;
inline constexpr size_t kCentralHeaderFixedSize = 46;
inline constexpr size_t kZip64EndSize = 56;  // without extensible data
inline constexpr size_t kZip64LocatorSize = 20;
inline constexpr size_t kEndSize = 22;
inline constexpr size_t kZip64LocalExtraSize = 20;  // id, length, two 8-byte sizes
inline constexpr size_t kMaxCommentSize = 0xFFFF;

inline constexpr uint32_t kMask32 = 0xFFFFFFFFu;
inline constexpr uint16_t kMask16 = 0xFFFFu;
inline constexpr uint16_t kZip64ExtraId = 0x0001;
inline constexpr uint16_t kVersionDefault = 20;
inline constexpr uint16_t kVersionZip64 = 45;
inline constexpr uint16_t kFlagEncrypted = 0x0001;
inline constexpr uint16_t kFlagDataDescriptor = 0x0008;

// A value needs ZIP64 when it does not fit below the 32-bit sentinel.
inline bool NeedsZip64(uint64_t v) { return v >= kMask32; }

// Everything the writer knows about one stored member.
struct StoredFile {
  std::string name;
  uint32_t crc32 = 0;
  uint64_t size = 0;
  uint64_t local_header_offset = 0;
  uint16_t dos_time = 0;
  uint16_t dos_date = (1 << 5) | 1;  // 1980-01-01
  bool zip64_sizes = false;   // sizes in a ZIP64 extra field (local and central)
  bool zip64_offset = false;  // local header offset in a ZIP64 extra field (central)
};

// Local file header + name + (ZIP64 extra if zip64_sizes).
std::string EncodeLocalHeader(const StoredFile& f);
// Size of EncodeLocalHeader(f) without encoding it: the member's data starts this many bytes
// after its local header.
uint64_t LocalHeaderSize(std::string_view name, bool zip64_sizes);
// Central directory header + name + (ZIP64 extra holding the masked values).
std::string EncodeCentralHeader(const StoredFile& f);

struct EndRecordsInfo {
  uint64_t entries = 0;
  uint64_t cd_offset = 0;
  uint64_t cd_size = 0;
  bool force_zip64 = false;
};
// True if the end records need the ZIP64 record and locator.
bool EndNeedsZip64(const EndRecordsInfo& e);
// [ZIP64 end record + locator, when needed or forced] + end of central directory record.
// The ZIP64 end record is placed at cd_offset + cd_size.
std::string EncodeEndRecords(const EndRecordsInfo& e);

// MS-DOS date and time (UTC) of a Unix time, clamped to 1980-01-01..2107-12-31.
void DosDateTime(int64_t unix_seconds, uint16_t* dos_date, uint16_t* dos_time);

struct LocalHeader {
  uint16_t version_needed = 0;
  uint16_t flags = 0;
  uint16_t method = 0;
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;    // resolved through the ZIP64 extra when masked
  uint64_t uncompressed_size = 0;  // resolved through the ZIP64 extra when masked
  bool zip64_sizes = false;
  std::string name;
  uint64_t header_size = 0;  // 30 + name + extra: the data starts here
};
// BYTES starts at a local header and holds at least all of it.
Result<LocalHeader> DecodeLocalHeader(std::string_view bytes);

struct CentralHeader {
  uint16_t version_made_by = 0;
  uint16_t version_needed = 0;
  uint16_t flags = 0;
  uint16_t method = 0;
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t uncompressed_size = 0;
  uint64_t local_header_offset = 0;
  uint32_t disk_start = 0;
  bool zip64_sizes = false;   // both sizes were masked
  bool zip64_offset = false;  // the offset was masked
  std::string name;
  uint64_t record_size = 0;  // 46 + name + extra + comment: where the next header starts
};
// BYTES starts at a central directory header (it may hold more headers after it).
Result<CentralHeader> DecodeCentralHeader(std::string_view bytes);

struct EndRecord {
  uint16_t disk = 0;
  uint16_t cd_disk = 0;
  uint16_t entries_on_disk = 0;
  uint16_t entries = 0;
  uint32_t cd_size = 0;
  uint32_t cd_offset = 0;
  uint16_t comment_length = 0;
};
// BYTES starts at the signature and holds at least 22 bytes.
Result<EndRecord> DecodeEndRecord(std::string_view bytes);

struct Zip64Locator {
  uint32_t disk = 0;
  uint64_t end_offset = 0;
  uint32_t total_disks = 0;
};
Result<Zip64Locator> DecodeZip64Locator(std::string_view bytes);

struct Zip64End {
  uint64_t record_size = 0;  // as stored: the size of the record after this field
  uint32_t disk = 0;
  uint32_t cd_disk = 0;
  uint64_t entries_on_disk = 0;
  uint64_t entries = 0;
  uint64_t cd_size = 0;
  uint64_t cd_offset = 0;
};
Result<Zip64End> DecodeZip64End(std::string_view bytes);

}  // namespace strata::zip
