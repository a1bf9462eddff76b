#include "pack/zip_format.h"

#include <ctime>

#include "util/little_endian.h"
namespace strata::zip {
namespace {

constexpr auto PutU16 = AppendLe16;
constexpr auto PutU32 = AppendLe32;
constexpr auto PutU64 = AppendLe64;
// Reads at a position the caller has bounds-checked.
uint16_t U16(std::string_view b, size_t p) { return Le16(b.data() + p); }
uint32_t U32(std::string_view b, size_t p) { return Le32(b.data() + p); }
uint64_t U64(std::string_view b, size_t p) { return Le64(b.data() + p); }

uint16_t VersionNeeded(bool zip64) { return zip64 ? kVersionZip64 : kVersionDefault; }
constexpr uint16_t kMadeByUnix = 3 << 8;
constexpr uint32_t kExternalAttrsFile = 0100644u << 16;

// Resolves masked fields from the ZIP64 extended information field of EXTRA. The fields
// present are exactly those masked, in the order of the pointers given (null = not masked).
Status ResolveZip64Extra(std::string_view extra, uint64_t* uncompressed, uint64_t* compressed,
                         uint64_t* offset, std::string_view what) {
  size_t need = (uncompressed ? 8 : 0) + (compressed ? 8 : 0) + (offset ? 8 : 0);
  if (need == 0) return Status::OK();
  size_t p = 0;
  while (p + 4 <= extra.size()) {
    uint16_t id = U16(extra, p);
    uint16_t len = U16(extra, p + 2);
    if (p + 4 + len > extra.size()) break;
    if (id == kZip64ExtraId) {
      if (len < need)
        return Status::Corruption(std::string(what) + ": ZIP64 extra field too short (" +
                                  std::to_string(len) + " bytes, need " + std::to_string(need) +
                                  ")");
      size_t q = p + 4;
      if (uncompressed) { *uncompressed = U64(extra, q); q += 8; }
      if (compressed) { *compressed = U64(extra, q); q += 8; }
      if (offset) { *offset = U64(extra, q); q += 8; }
      return Status::OK();
    }
    p += 4 + len;
  }
  return Status::Corruption(std::string(what) +
                            ": a size or offset is 0xFFFFFFFF but there is no ZIP64 extra field");
}

}  // namespace

uint64_t LocalHeaderSize(std::string_view name, bool zip64_sizes) {
  return kLocalHeaderFixedSize + name.size() + (zip64_sizes ? kZip64LocalExtraSize : 0);
}

std::string EncodeLocalHeader(const StoredFile& f) {
  std::string out;
  out.reserve(LocalHeaderSize(f.name, f.zip64_sizes));
  PutU32(&out, kLocalHeaderSignature);
  PutU16(&out, VersionNeeded(f.zip64_sizes));
  PutU16(&out, 0);  // flags
  PutU16(&out, 0);  // method: stored
  PutU16(&out, f.dos_time);
  PutU16(&out, f.dos_date);
  PutU32(&out, f.crc32);
  uint32_t size32 = f.zip64_sizes ? kMask32 : static_cast<uint32_t>(f.size);
  PutU32(&out, size32);  // compressed
  PutU32(&out, size32);  // uncompressed
  PutU16(&out, static_cast<uint16_t>(f.name.size()));
  PutU16(&out, f.zip64_sizes ? static_cast<uint16_t>(kZip64LocalExtraSize) : 0);
  out.append(f.name);
  if (f.zip64_sizes) {
    PutU16(&out, kZip64ExtraId);
    PutU16(&out, 16);
    PutU64(&out, f.size);  // uncompressed
    PutU64(&out, f.size);  // compressed
  }
  return out;
}

std::string EncodeCentralHeader(const StoredFile& f) {
  bool zip64 = f.zip64_sizes || f.zip64_offset;
  uint16_t extra_data = static_cast<uint16_t>((f.zip64_sizes ? 16 : 0) + (f.zip64_offset ? 8 : 0));
  std::string out;
  out.reserve(kCentralHeaderFixedSize + f.name.size() + (zip64 ? 4 + extra_data : 0));
  PutU32(&out, kCentralHeaderSignature);
  uint16_t needed = VersionNeeded(zip64);
  PutU16(&out, kMadeByUnix | needed);
  PutU16(&out, needed);
  PutU16(&out, 0);  // flags
  PutU16(&out, 0);  // method
  PutU16(&out, f.dos_time);
  PutU16(&out, f.dos_date);
  PutU32(&out, f.crc32);
  uint32_t size32 = f.zip64_sizes ? kMask32 : static_cast<uint32_t>(f.size);
  PutU32(&out, size32);
  PutU32(&out, size32);
  PutU16(&out, static_cast<uint16_t>(f.name.size()));
  PutU16(&out, zip64 ? static_cast<uint16_t>(4 + extra_data) : 0);
  PutU16(&out, 0);  // comment length
  PutU16(&out, 0);  // disk number start
  PutU16(&out, 0);  // internal attributes
  PutU32(&out, kExternalAttrsFile);
  PutU32(&out, f.zip64_offset ? kMask32 : static_cast<uint32_t>(f.local_header_offset));
  out.append(f.name);
  if (zip64) {
    PutU16(&out, kZip64ExtraId);
    PutU16(&out, extra_data);
    if (f.zip64_sizes) {
      PutU64(&out, f.size);  // uncompressed
      PutU64(&out, f.size);  // compressed
    }
    if (f.zip64_offset) PutU64(&out, f.local_header_offset);
  }
  return out;
}

bool EndNeedsZip64(const EndRecordsInfo& e) {
  return e.force_zip64 || e.entries >= kMask16 || NeedsZip64(e.cd_size) ||
         NeedsZip64(e.cd_offset);
}

std::string EncodeEndRecords(const EndRecordsInfo& e) {
  bool zip64 = EndNeedsZip64(e);
  std::string out;
  if (zip64) {
    uint64_t record_offset = e.cd_offset + e.cd_size;
    PutU32(&out, kZip64EndSignature);
    PutU64(&out, kZip64EndSize - 12);  // size of the rest of the record
    PutU16(&out, kMadeByUnix | kVersionZip64);
    PutU16(&out, kVersionZip64);
    PutU32(&out, 0);  // this disk
    PutU32(&out, 0);  // disk with the central directory
    PutU64(&out, e.entries);
    PutU64(&out, e.entries);
    PutU64(&out, e.cd_size);
    PutU64(&out, e.cd_offset);
    PutU32(&out, kZip64LocatorSignature);
    PutU32(&out, 0);  // disk with the ZIP64 end record
    PutU64(&out, record_offset);
    PutU32(&out, 1);  // total disks
  }
  bool mask_all = e.force_zip64;
  uint16_t entries16 =
      (mask_all || e.entries >= kMask16) ? kMask16 : static_cast<uint16_t>(e.entries);
  PutU32(&out, kEndSignature);
  PutU16(&out, 0);  // this disk
  PutU16(&out, 0);  // disk with the central directory
  PutU16(&out, entries16);
  PutU16(&out, entries16);
  PutU32(&out, (mask_all || NeedsZip64(e.cd_size)) ? kMask32 : static_cast<uint32_t>(e.cd_size));
  PutU32(&out,
         (mask_all || NeedsZip64(e.cd_offset)) ? kMask32 : static_cast<uint32_t>(e.cd_offset));
  PutU16(&out, 0);  // comment length
  return out;
}

void DosDateTime(int64_t unix_seconds, uint16_t* dos_date, uint16_t* dos_time) {
  constexpr int64_t kMin = 315532800;    // 1980-01-01T00:00:00Z
  constexpr int64_t kMax = 4354819199;   // 2107-12-31T23:59:59Z
  if (unix_seconds < kMin) unix_seconds = kMin;
  if (unix_seconds > kMax) unix_seconds = kMax;
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  *dos_date = static_cast<uint16_t>(((tm.tm_year + 1900 - 1980) << 9) | ((tm.tm_mon + 1) << 5) |
                                    tm.tm_mday);
  *dos_time = static_cast<uint16_t>((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
}

Result<LocalHeader> DecodeLocalHeader(std::string_view b) {
  if (b.size() < kLocalHeaderFixedSize)
    return Status::Corruption("local header truncated (" + std::to_string(b.size()) + " bytes)");
  if (U32(b, 0) != kLocalHeaderSignature)
    return Status::Corruption("no local header signature");
  LocalHeader h;
  h.version_needed = U16(b, 4);
  h.flags = U16(b, 6);
  h.method = U16(b, 8);
  h.crc32 = U32(b, 14);
  uint32_t comp32 = U32(b, 18);
  uint32_t uncomp32 = U32(b, 22);
  uint16_t name_len = U16(b, 26);
  uint16_t extra_len = U16(b, 28);
  h.header_size = kLocalHeaderFixedSize + name_len + extra_len;
  if (b.size() < h.header_size)
    return Status::Corruption("local header truncated (name and extra field)");
  h.name.assign(b.substr(kLocalHeaderFixedSize, name_len));
  std::string_view extra = b.substr(kLocalHeaderFixedSize + name_len, extra_len);
  h.compressed_size = comp32;
  h.uncompressed_size = uncomp32;
  h.zip64_sizes = comp32 == kMask32 && uncomp32 == kMask32;
  STRATA_RETURN_IF_ERROR(ResolveZip64Extra(extra, uncomp32 == kMask32 ? &h.uncompressed_size : nullptr,
                                           comp32 == kMask32 ? &h.compressed_size : nullptr,
                                           nullptr, "local header of " + h.name));
  return h;
}

Result<CentralHeader> DecodeCentralHeader(std::string_view b) {
  if (b.size() < kCentralHeaderFixedSize)
    return Status::Corruption("central directory header truncated");
  if (U32(b, 0) != kCentralHeaderSignature)
    return Status::Corruption("no central directory header signature");
  CentralHeader h;
  h.version_made_by = U16(b, 4);
  h.version_needed = U16(b, 6);
  h.flags = U16(b, 8);
  h.method = U16(b, 10);
  h.crc32 = U32(b, 16);
  uint32_t comp32 = U32(b, 20);
  uint32_t uncomp32 = U32(b, 24);
  uint16_t name_len = U16(b, 28);
  uint16_t extra_len = U16(b, 30);
  uint16_t comment_len = U16(b, 32);
  uint16_t disk16 = U16(b, 34);
  uint32_t offset32 = U32(b, 42);
  h.record_size = kCentralHeaderFixedSize + name_len + extra_len + comment_len;
  if (b.size() < h.record_size)
    return Status::Corruption("central directory header truncated (name, extra or comment)");
  h.name.assign(b.substr(kCentralHeaderFixedSize, name_len));
  std::string_view extra = b.substr(kCentralHeaderFixedSize + name_len, extra_len);
  h.compressed_size = comp32;
  h.uncompressed_size = uncomp32;
  h.local_header_offset = offset32;
  h.disk_start = disk16;
  h.zip64_sizes = comp32 == kMask32 && uncomp32 == kMask32;
  h.zip64_offset = offset32 == kMask32;
  STRATA_RETURN_IF_ERROR(ResolveZip64Extra(
      extra, uncomp32 == kMask32 ? &h.uncompressed_size : nullptr,
      comp32 == kMask32 ? &h.compressed_size : nullptr,
      offset32 == kMask32 ? &h.local_header_offset : nullptr, "central header of " + h.name));
  return h;
}

Result<EndRecord> DecodeEndRecord(std::string_view b) {
  if (b.size() < kEndSize) return Status::Corruption("end of central directory record truncated");
  if (U32(b, 0) != kEndSignature) return Status::Corruption("no end of central directory signature");
  EndRecord e;
  e.disk = U16(b, 4);
  e.cd_disk = U16(b, 6);
  e.entries_on_disk = U16(b, 8);
  e.entries = U16(b, 10);
  e.cd_size = U32(b, 12);
  e.cd_offset = U32(b, 16);
  e.comment_length = U16(b, 20);
  return e;
}

Result<Zip64Locator> DecodeZip64Locator(std::string_view b) {
  if (b.size() < kZip64LocatorSize) return Status::Corruption("ZIP64 locator truncated");
  if (U32(b, 0) != kZip64LocatorSignature) return Status::Corruption("no ZIP64 locator signature");
  Zip64Locator l;
  l.disk = U32(b, 4);
  l.end_offset = U64(b, 8);
  l.total_disks = U32(b, 16);
  return l;
}

Result<Zip64End> DecodeZip64End(std::string_view b) {
  if (b.size() < kZip64EndSize) return Status::Corruption("ZIP64 end record truncated");
  if (U32(b, 0) != kZip64EndSignature) return Status::Corruption("no ZIP64 end record signature");
  Zip64End z;
  z.record_size = U64(b, 4);
  z.disk = U32(b, 16);
  z.cd_disk = U32(b, 20);
  z.entries_on_disk = U64(b, 24);
  z.entries = U64(b, 32);
  z.cd_size = U64(b, 40);
  z.cd_offset = U64(b, 48);
  return z;
}

}  // namespace strata::zip
