#include "pack/pack_directory.h"

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "pack/zip_format.h"

namespace strata {
namespace {

using namespace zip;

constexpr uint16_t kUnsupportedFlags = kFlagEncrypted | kFlagDataDescriptor;

bool HasSignature(std::string_view b, size_t pos, uint32_t sig) {
  if (pos + 4 > b.size()) return false;
  char s[4] = {static_cast<char>(sig & 0xFF), static_cast<char>((sig >> 8) & 0xFF),
               static_cast<char>((sig >> 16) & 0xFF), static_cast<char>((sig >> 24) & 0xFF)};
  return std::memcmp(b.data() + pos, s, 4) == 0;
}

// What the end records say about the central directory.
struct EndRecords {
  uint64_t entries = 0, cd_size = 0, cd_offset = 0;
  uint64_t start = 0;  // where the end records begin (ZIP64 end record, or the EOCD)
  bool zip64 = false;
};

// The pack's last bytes: enough for the EOCD with the longest comment and the ZIP64 records
// before it. Small records are served from it instead of being read again.
class Tail {
 public:
  static Result<Tail> Read(const PackRangeRead& read, uint64_t size) {
    Tail t(read, size);
    const uint64_t len = std::min<uint64_t>(size, kEndSize + kMaxCommentSize + kZip64LocatorSize + kZip64EndSize);
    t.start_ = size - len;
    STRATA_ASSIGN_OR_RETURN(t.bytes_, read(t.start_, len));
    return t;
  }
  // LEN bytes at the absolute offset OFF: from the tail when they are in it.
  Result<std::string> Small(uint64_t off, uint64_t len) const {
    if (off >= start_ && off + len <= size_) return bytes_.substr(static_cast<size_t>(off - start_), len);
    return read_(off, len);
  }
  std::string_view view() const { return bytes_; }
  uint64_t start() const { return start_; }

 private:
  Tail(const PackRangeRead& read, uint64_t size) : read_(read), size_(size) {}
  const PackRangeRead& read_;
  uint64_t size_;
  uint64_t start_ = 0;
  std::string bytes_;
};

// The EOCD's position in the tail: the last signature whose comment length reaches exactly
// to the end of the pack.
Result<size_t> FindEndRecord(std::string_view tail) {
  for (int64_t p = static_cast<int64_t>(tail.size() - kEndSize);
       p >= 0 && tail.size() - kEndSize - static_cast<uint64_t>(p) <= kMaxCommentSize; --p) {
    if (!HasSignature(tail, static_cast<size_t>(p), kEndSignature)) continue;
    auto e = DecodeEndRecord(tail.substr(static_cast<size_t>(p)));
    if (e.ok() && e->comment_length == tail.size() - kEndSize - static_cast<uint64_t>(p))
      return static_cast<size_t>(p);
  }
  return Status::Corruption("no end of central directory record (truncated, or not a ZIP file)");
}

// The ZIP64 end record the locator (which ends where the EOCD begins) points at.
Status ReadZip64End(const Tail& tail, const std::string& loc_bytes, uint64_t loc_pos, EndRecords* out) {
  STRATA_ASSIGN_OR_RETURN(Zip64Locator loc, DecodeZip64Locator(loc_bytes));
  if (loc.disk != 0 || loc.total_disks > 1) return Status::Corruption("multi-volume ZIP64 archives are not packs");
  if (loc.end_offset > loc_pos || loc_pos - loc.end_offset < kZip64EndSize)
    return Status::Corruption("ZIP64 locator points outside the pack");
  STRATA_ASSIGN_OR_RETURN(std::string z_bytes, tail.Small(loc.end_offset, kZip64EndSize));
  STRATA_ASSIGN_OR_RETURN(Zip64End z, DecodeZip64End(z_bytes));
  if (z.record_size < kZip64EndSize - 12 || z.record_size != loc_pos - loc.end_offset - 12)
    return Status::Corruption("ZIP64 end record size does not match its locator");
  if (z.disk != 0 || z.cd_disk != 0 || z.entries_on_disk != z.entries)
    return Status::Corruption("multi-volume ZIP64 archives are not packs");
  out->entries = z.entries;
  out->cd_size = z.cd_size;
  out->cd_offset = z.cd_offset;
  out->start = loc.end_offset;
  out->zip64 = true;
  return Status::OK();
}

// Step 1.
Result<EndRecords> ReadEndRecords(const PackRangeRead& read, uint64_t size) {
  if (size < kEndSize) return Status::Corruption("too small to be a ZIP file (" + std::to_string(size) + " bytes)");
  STRATA_ASSIGN_OR_RETURN(Tail tail, Tail::Read(read, size));
  STRATA_ASSIGN_OR_RETURN(size_t found, FindEndRecord(tail.view()));
  const uint64_t eocd_pos = tail.start() + found;
  STRATA_ASSIGN_OR_RETURN(EndRecord eocd, DecodeEndRecord(tail.view().substr(found)));
  if ((eocd.disk != 0 && eocd.disk != kMask16) || (eocd.cd_disk != 0 && eocd.cd_disk != kMask16))
    return Status::Corruption("multi-volume ZIP archives are not packs");
  EndRecords out;
  out.entries = eocd.entries;
  out.cd_size = eocd.cd_size;
  out.cd_offset = eocd.cd_offset;
  out.start = eocd_pos;
  if (eocd_pos >= kZip64LocatorSize) {
    const uint64_t loc_pos = eocd_pos - kZip64LocatorSize;
    STRATA_ASSIGN_OR_RETURN(std::string loc_bytes, tail.Small(loc_pos, kZip64LocatorSize));
    if (HasSignature(loc_bytes, 0, kZip64LocatorSignature)) {
      STRATA_RETURN_IF_ERROR(ReadZip64End(tail, loc_bytes, loc_pos, &out));
      return out;
    }
  }
  if (eocd.entries == kMask16 || eocd.cd_size == kMask32 || eocd.cd_offset == kMask32)
    return Status::Corruption("end record needs ZIP64 records, but there is no ZIP64 locator");
  if (eocd.entries_on_disk != eocd.entries) return Status::Corruption("multi-volume ZIP archives are not packs");
  return out;
}

// Step 2.
Status CheckDirectoryExtent(const EndRecords& e) {
  if (e.cd_offset > e.start || e.cd_size != e.start - e.cd_offset)
    return Status::Corruption("central directory (offset " + std::to_string(e.cd_offset) + ", size " +
                              std::to_string(e.cd_size) + ") does not end where the end records begin (" +
                              std::to_string(e.start) + ")");
  if (e.entries == 0) return Status::Corruption("the ZIP archive is empty (no manifest)");
  if (e.entries > e.cd_size / kCentralHeaderFixedSize)
    return Status::Corruption(std::to_string(e.entries) + " entries cannot fit in a " + std::to_string(e.cd_size) +
                              "-byte central directory");
  if (e.cd_size > kMaxCentralDirectoryBytes)
    return Status::Corruption("central directory of " + std::to_string(e.cd_size) + " bytes is larger than the " +
                              std::to_string(kMaxCentralDirectoryBytes) + "-byte limit");
  return Status::OK();
}

// The directory's record H as a member: where its data lies if it lies before the directory.
PackMember MemberOf(const CentralHeader& h, uint64_t cd_offset) {
  PackMember m;
  m.name = h.name;
  m.header_offset = h.local_header_offset;
  m.size = h.uncompressed_size;
  m.crc32 = h.crc32;
  const uint64_t header_size = LocalHeaderSize(m.name, h.zip64_sizes);
  m.in_bounds = m.header_offset <= cd_offset && header_size <= cd_offset - m.header_offset &&
                m.size <= cd_offset - m.header_offset - header_size;
  m.data_offset = m.in_bounds ? m.header_offset + header_size : 0;
  return m;
}

// The manifest member must be the last, stored, and end where the directory begins; not
// starting where the previous member ends is only a problem.
Status CheckManifestMember(const CentralHeader& h, const PackMember& m, bool last, uint64_t cd_offset,
                           uint64_t prev_end, PackDirectory* out) {
  const std::string name(kPackManifestName);
  if (!last) return Status::Corruption(name + " is not the last member of the archive");
  if (h.method != 0 || (h.flags & kUnsupportedFlags) || h.compressed_size != h.uncompressed_size)
    return Status::Corruption(name + " is compressed, encrypted or has a data descriptor");
  if (!m.in_bounds || m.data_offset + m.size != cd_offset)
    return Status::Corruption(name + " does not end where the central directory begins");
  if (m.header_offset != prev_end)
    out->problems.push_back({"", Status::Code::kCorruption,
                             "manifest does not start where the previous member ends (offset " +
                                 std::to_string(m.header_offset) + ", expected " + std::to_string(prev_end) + ")"});
  return Status::OK();
}

// What is wrong with an entry member, or "" (the first problem found).
std::string MemberProblem(const CentralHeader& h, const PackMember& m, bool duplicate, uint64_t prev_end) {
  if (h.method != 0) return "compressed (method " + std::to_string(h.method) + "); packs store entries";
  if (h.flags & kUnsupportedFlags) return "encrypted or has a data descriptor (flags " + std::to_string(h.flags) + ")";
  if (h.compressed_size != h.uncompressed_size) return "compressed size differs from size";
  if (Status st = ParsePackEntryName(m.name, nullptr, nullptr); !st.ok()) return st.message();
  if (duplicate) return "duplicate member name in the ZIP directory";
  if (!m.in_bounds) return "data extends beyond the start of the central directory";
  if (m.header_offset != prev_end)
    return "member starts at offset " + std::to_string(m.header_offset) + ", not where the previous one ends (" +
           std::to_string(prev_end) + ")";
  return "";
}

// Step 3, over the directory's bytes CD.
Status ParseMembers(std::string_view cd, const EndRecords& e, PackDirectory* out) {
  uint64_t pos = 0, prev_end = 0;
  std::unordered_set<std::string> names;
  bool have_manifest = false;
  for (uint64_t k = 0; k < e.entries; ++k) {
    auto h = DecodeCentralHeader(cd.substr(pos));
    if (!h.ok())
      return Status::Corruption("central directory entry #" + std::to_string(k) + ": " + h.status().message());
    pos += h->record_size;
    PackMember m = MemberOf(*h, e.cd_offset);
    if (m.name == kPackManifestName) {
      STRATA_RETURN_IF_ERROR(CheckManifestMember(*h, m, k + 1 == e.entries, e.cd_offset, prev_end, out));
      out->manifest = std::move(m);
      have_manifest = true;
      break;
    }
    const std::string problem = MemberProblem(*h, m, names.count(m.name) > 0, prev_end);
    if (!problem.empty()) out->problems.push_back({m.name, Status::Code::kCorruption, problem});
    if (m.in_bounds) prev_end = m.data_offset + m.size;
    names.insert(m.name);
    out->by_name.emplace(m.name, out->members.size());
    out->members.push_back(std::move(m));
  }
  if (!have_manifest)
    return Status::Corruption("no " + std::string(kPackManifestName) + " as the last member: not a Strata pack");
  if (pos != e.cd_size)
    return Status::Corruption("central directory has " + std::to_string(e.cd_size - pos) + " bytes after its declared " +
                              std::to_string(e.entries) + " entries");
  return Status::OK();
}

}  // namespace

Result<PackDirectory> ReadPackDirectory(const PackRangeRead& read, uint64_t size) {
  STRATA_ASSIGN_OR_RETURN(EndRecords ends, ReadEndRecords(read, size));
  STRATA_RETURN_IF_ERROR(CheckDirectoryExtent(ends));
  STRATA_ASSIGN_OR_RETURN(std::string cd, read(ends.cd_offset, ends.cd_size));
  PackDirectory dir;
  dir.zip64 = ends.zip64;
  dir.cd_offset = ends.cd_offset;
  STRATA_RETURN_IF_ERROR(ParseMembers(cd, ends, &dir));
  return dir;
}

Status CheckLocalHeader(const PackMember& m, std::string_view bytes) {
  auto lh = DecodeLocalHeader(bytes);
  if (!lh.ok()) return Status::Corruption("local header: " + lh.status().message());
  if (lh->name != m.name) return Status::Corruption("local header names '" + lh->name.substr(0, 200) + "'");
  if (lh->method != 0) return Status::Corruption("local header: compression method " + std::to_string(lh->method));
  if (lh->flags & kUnsupportedFlags)
    return Status::Corruption("local header: unsupported flags " + std::to_string(lh->flags));
  if (lh->crc32 != m.crc32)
    return Status::Corruption("local header CRC-32 " + Hex32(lh->crc32) + " differs from the directory's " +
                              Hex32(m.crc32));
  if (lh->compressed_size != m.size || lh->uncompressed_size != m.size)
    return Status::Corruption("local header size " + std::to_string(lh->uncompressed_size) +
                              " differs from the directory's " + std::to_string(m.size));
  if (m.header_offset + lh->header_size != m.data_offset)
    return Status::Corruption("local header is " + std::to_string(lh->header_size) +
                              " bytes, so the data is not at offset " + std::to_string(m.data_offset));
  return Status::OK();
}

}  // namespace strata
