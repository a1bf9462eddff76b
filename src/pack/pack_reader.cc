#include "pack/pack_reader.h"
#include "model/uid.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <unordered_set>
#include <utility>

#include "pack/zip_format.h"
#include "util/checksum.h"

namespace strata {
namespace {

constexpr uint64_t kVerifyWindow = 8ull << 20;
constexpr uint64_t kMaxCentralDirectoryBytes = 1ull << 30;
constexpr uint16_t kUnsupportedFlags = zip::kFlagEncrypted | zip::kFlagDataDescriptor;

bool HasSignature(std::string_view b, size_t pos, uint32_t sig) {
  if (pos + 4 > b.size()) return false;
  char s[4] = {static_cast<char>(sig & 0xFF), static_cast<char>((sig >> 8) & 0xFF),
               static_cast<char>((sig >> 16) & 0xFF), static_cast<char>((sig >> 24) & 0xFF)};
  return std::memcmp(b.data() + pos, s, 4) == 0;
}

std::string Hex32(uint32_t v) { return "0x" + HexU32(v); }

// Serves consecutive byte ranges of [0, limit) from large windows, so that checking every
// entry of a pack costs a few big reads instead of one read per entry.
class WindowReader {
 public:
  WindowReader(const PackSource& source, uint64_t limit) : source_(source), limit_(limit) {}

  // Calls CONSUME with pieces that together are [offset, offset + length).
  template <typename F>
  Status Read(uint64_t offset, uint64_t length, F&& consume) {
    if (offset > limit_ || length > limit_ - offset)
      return Status::Internal("window read beyond its limit");
    while (length > 0) {
      if (offset < start_ || offset >= start_ + buf_.size()) {
        uint64_t n = std::min(kVerifyWindow, limit_ - offset);
        auto r = source_(offset, n);
        if (!r.ok()) {
          buf_.clear();
          return r.status();
        }
        if (r->size() != n) {
          buf_.clear();
          return Status::IOError("short read at offset " + std::to_string(offset) + ": " +
                                 std::to_string(r->size()) + " of " + std::to_string(n) +
                                 " bytes");
        }
        buf_ = std::move(r).value();
        start_ = offset;
      }
      uint64_t pos = offset - start_;
      uint64_t take = std::min<uint64_t>(length, buf_.size() - pos);
      consume(std::string_view(buf_).substr(pos, take));
      offset += take;
      length -= take;
    }
    return Status::OK();
  }

 private:
  const PackSource& source_;
  uint64_t limit_;
  uint64_t start_ = 0;
  std::string buf_;
};

}  // namespace

Status PackVerifyReport::ToStatus() const {
  if (problems.empty()) return Status::OK();
  bool all_io = true;
  std::string msg = (pack.empty() ? "pack: " : "pack " + pack + ": ") +
                    std::to_string(problems.size()) +
                    (problems.size() == 1 ? " problem" : " problems");
  size_t shown = 0;
  for (const PackProblem& p : problems) {
    if (p.code != Status::Code::kIOError) all_io = false;
    if (shown < 20) {
      msg += shown == 0 ? ": " : "; ";
      msg += p.entry.empty() ? p.message : "entry " + p.entry + ": " + p.message;
      ++shown;
    }
  }
  if (problems.size() > shown) msg += "; and " + std::to_string(problems.size() - shown) + " more";
  return all_io ? Status::IOError(msg) : Status::Corruption(msg);
}

PackReader::PackReader(PackSource source, uint64_t size, std::string label)
    : source_(std::move(source)), size_(size), label_(std::move(label)) {}

Result<PackReader> PackReader::Open(PackSource source, uint64_t size, std::string label) {
  PackReader r(std::move(source), size, std::move(label));
  Status st = r.Load();
  if (!st.ok()) return st.WithContext(r.label_.empty() ? "pack" : "pack " + r.label_);
  return r;
}

std::string PackReader::EntryLabel(std::string_view name) const {
  return (label_.empty() ? "pack entry " : "pack " + label_ + " entry ") + std::string(name);
}

void PackReader::AddProblem(const std::string& entry, const std::string& message,
                            Status::Code code) {
  problems_.push_back(PackProblem{entry, code, message});
  if (!entry.empty()) entry_problem_.emplace(entry, message);
}

Result<std::string> PackReader::ReadExact(uint64_t offset, uint64_t length) const {
  if (offset > size_ || length > size_ - offset)
    return Status::Corruption("range [" + std::to_string(offset) + ", +" + std::to_string(length) +
                              ") is beyond the end of the pack (" + std::to_string(size_) +
                              " bytes)");
  STRATA_ASSIGN_OR_RETURN(std::string bytes, source_(offset, length));
  if (bytes.size() != length)
    return Status::IOError("short read at offset " + std::to_string(offset) + ": " +
                           std::to_string(bytes.size()) + " of " + std::to_string(length) +
                           " bytes");
  return bytes;
}

Status PackReader::CheckLocalHeader(const Member& m, std::string_view bytes) const {
  auto lh = zip::DecodeLocalHeader(bytes);
  if (!lh.ok()) return Status::Corruption("local header: " + lh.status().message());
  if (lh->name != m.name)
    return Status::Corruption("local header names '" + lh->name.substr(0, 200) + "'");
  if (lh->method != 0)
    return Status::Corruption("local header: compression method " + std::to_string(lh->method));
  if (lh->flags & kUnsupportedFlags)
    return Status::Corruption("local header: unsupported flags " + std::to_string(lh->flags));
  if (lh->crc32 != m.crc32)
    return Status::Corruption("local header CRC-32 " + Hex32(lh->crc32) +
                              " differs from the directory's " + Hex32(m.crc32));
  if (lh->compressed_size != m.size || lh->uncompressed_size != m.size)
    return Status::Corruption("local header size " + std::to_string(lh->uncompressed_size) +
                              " differs from the directory's " + std::to_string(m.size));
  if (m.header_offset + lh->header_size != m.data_offset)
    return Status::Corruption("local header is " + std::to_string(lh->header_size) +
                              " bytes, so the data is not at offset " +
                              std::to_string(m.data_offset));
  return Status::OK();
}

Status PackReader::Load() {
  using namespace zip;
  if (size_ < kEndSize)
    return Status::Corruption("too small to be a ZIP file (" + std::to_string(size_) + " bytes)");

  // 1. The end of central directory record: the last 22 bytes, unless a comment follows it.
  uint64_t tail_len =
      std::min<uint64_t>(size_, kEndSize + kMaxCommentSize + kZip64LocatorSize + kZip64EndSize);
  uint64_t tail_start = size_ - tail_len;
  STRATA_ASSIGN_OR_RETURN(std::string tail, ReadExact(tail_start, tail_len));
  std::string_view tv(tail);
  int64_t found = -1;
  for (int64_t p = static_cast<int64_t>(tail_len - kEndSize);
       p >= 0 && tail_len - kEndSize - p <= kMaxCommentSize; --p) {
    if (!HasSignature(tv, static_cast<size_t>(p), kEndSignature)) continue;
    auto e = DecodeEndRecord(tv.substr(static_cast<size_t>(p)));
    if (e.ok() && e->comment_length == tail_len - kEndSize - static_cast<uint64_t>(p)) {
      found = p;
      break;
    }
  }
  if (found < 0)
    return Status::Corruption("no end of central directory record (truncated, or not a ZIP file)");
  uint64_t eocd_pos = tail_start + static_cast<uint64_t>(found);
  STRATA_ASSIGN_OR_RETURN(EndRecord eocd, DecodeEndRecord(tv.substr(static_cast<size_t>(found))));
  if ((eocd.disk != 0 && eocd.disk != kMask16) || (eocd.cd_disk != 0 && eocd.cd_disk != kMask16))
    return Status::Corruption("multi-volume ZIP archives are not packs");

  // Reads a small record at an absolute offset, from the tail when it is there.
  auto read_small = [&](uint64_t off, uint64_t len) -> Result<std::string> {
    if (off >= tail_start && off + len <= size_)
      return std::string(tv.substr(static_cast<size_t>(off - tail_start), len));
    return ReadExact(off, len);
  };

  // 2. The ZIP64 locator and record, when present.
  uint64_t entries = eocd.entries, cd_size = eocd.cd_size, cd_offset = eocd.cd_offset;
  uint64_t end_records_start = eocd_pos;
  bool has_locator = false;
  if (eocd_pos >= kZip64LocatorSize) {
    STRATA_ASSIGN_OR_RETURN(std::string loc_bytes,
                            read_small(eocd_pos - kZip64LocatorSize, kZip64LocatorSize));
    has_locator = HasSignature(loc_bytes, 0, kZip64LocatorSignature);
    if (has_locator) {
      STRATA_ASSIGN_OR_RETURN(Zip64Locator loc, DecodeZip64Locator(loc_bytes));
      uint64_t loc_pos = eocd_pos - kZip64LocatorSize;
      if (loc.disk != 0 || loc.total_disks > 1)
        return Status::Corruption("multi-volume ZIP64 archives are not packs");
      if (loc.end_offset > loc_pos || loc_pos - loc.end_offset < kZip64EndSize)
        return Status::Corruption("ZIP64 locator points outside the pack");
      STRATA_ASSIGN_OR_RETURN(std::string z_bytes, read_small(loc.end_offset, kZip64EndSize));
      STRATA_ASSIGN_OR_RETURN(Zip64End z, DecodeZip64End(z_bytes));
      if (z.record_size < kZip64EndSize - 12 || z.record_size != loc_pos - loc.end_offset - 12)
        return Status::Corruption("ZIP64 end record size does not match its locator");
      if (z.disk != 0 || z.cd_disk != 0 || z.entries_on_disk != z.entries)
        return Status::Corruption("multi-volume ZIP64 archives are not packs");
      entries = z.entries;
      cd_size = z.cd_size;
      cd_offset = z.cd_offset;
      end_records_start = loc.end_offset;
      zip64_ = true;
    }
  }
  if (!has_locator) {
    if (eocd.entries == kMask16 || eocd.cd_size == kMask32 || eocd.cd_offset == kMask32)
      return Status::Corruption("end record needs ZIP64 records, but there is no ZIP64 locator");
    if (eocd.entries_on_disk != eocd.entries)
      return Status::Corruption("multi-volume ZIP archives are not packs");
  }

  // 3. The central directory: it ends exactly where the end records begin.
  if (cd_offset > end_records_start || cd_size != end_records_start - cd_offset)
    return Status::Corruption("central directory (offset " + std::to_string(cd_offset) +
                              ", size " + std::to_string(cd_size) +
                              ") does not end where the end records begin (" +
                              std::to_string(end_records_start) + ")");
  if (entries == 0) return Status::Corruption("the ZIP archive is empty (no manifest)");
  if (entries > cd_size / kCentralHeaderFixedSize)
    return Status::Corruption(std::to_string(entries) + " entries cannot fit in a " +
                              std::to_string(cd_size) + "-byte central directory");
  if (cd_size > kMaxCentralDirectoryBytes)
    return Status::Corruption("central directory of " + std::to_string(cd_size) +
                              " bytes is larger than the " +
                              std::to_string(kMaxCentralDirectoryBytes) + "-byte limit");
  STRATA_ASSIGN_OR_RETURN(std::string cd, ReadExact(cd_offset, cd_size));
  cd_offset_ = cd_offset;

  std::string_view cdv(cd);
  uint64_t pos = 0;
  uint64_t prev_end = 0;
  std::unordered_set<std::string> member_names;
  std::unordered_map<std::string, size_t> member_index;
  bool have_manifest = false;
  Member manifest_member;
  for (uint64_t k = 0; k < entries; ++k) {
    auto h = DecodeCentralHeader(cdv.substr(pos));
    if (!h.ok())
      return Status::Corruption("central directory entry #" + std::to_string(k) + ": " +
                                h.status().message());
    pos += h->record_size;
    Member m;
    m.name = h->name;
    m.header_offset = h->local_header_offset;
    m.size = h->uncompressed_size;
    m.crc32 = h->crc32;
    uint64_t header_size = LocalHeaderSize(m.name, h->zip64_sizes);
    m.in_bounds = m.header_offset <= cd_offset && header_size <= cd_offset - m.header_offset &&
                  m.size <= cd_offset - m.header_offset - header_size;
    m.data_offset = m.in_bounds ? m.header_offset + header_size : 0;
    bool is_manifest = m.name == kPackManifestName;

    if (is_manifest) {
      if (k + 1 != entries)
        return Status::Corruption(std::string(kPackManifestName) +
                                  " is not the last member of the archive");
      if (h->method != 0 || (h->flags & kUnsupportedFlags) ||
          h->compressed_size != h->uncompressed_size)
        return Status::Corruption(std::string(kPackManifestName) +
                                  " is compressed, encrypted or has a data descriptor");
      if (!m.in_bounds || m.data_offset + m.size != cd_offset)
        return Status::Corruption(std::string(kPackManifestName) +
                                  " does not end where the central directory begins");
      if (m.header_offset != prev_end)
        AddProblem("", "manifest does not start where the previous member ends (offset " +
                           std::to_string(m.header_offset) + ", expected " +
                           std::to_string(prev_end) + ")");
      manifest_member = m;
      have_manifest = true;
      break;
    }

    std::string problem;
    if (h->method != 0) {
      problem = "compressed (method " + std::to_string(h->method) + "); packs store entries";
    } else if (h->flags & kUnsupportedFlags) {
      problem = "encrypted or has a data descriptor (flags " + std::to_string(h->flags) + ")";
    } else if (h->compressed_size != h->uncompressed_size) {
      problem = "compressed size differs from size";
    } else if (Status st = ParsePackEntryName(m.name, nullptr, nullptr); !st.ok()) {
      problem = st.message();
    } else if (member_names.count(m.name)) {
      problem = "duplicate member name in the ZIP directory";
    } else if (!m.in_bounds) {
      problem = "data extends beyond the start of the central directory";
    } else if (m.header_offset != prev_end) {
      problem = "member starts at offset " + std::to_string(m.header_offset) +
                ", not where the previous one ends (" + std::to_string(prev_end) + ")";
    }
    if (!problem.empty()) AddProblem(m.name, problem);
    if (m.in_bounds) prev_end = m.data_offset + m.size;
    member_names.insert(m.name);
    member_index.emplace(m.name, members_.size());
    members_.push_back(std::move(m));
  }
  if (!have_manifest)
    return Status::Corruption(std::string("no ") + std::string(kPackManifestName) +
                              " as the last member: not a Strata pack");
  if (pos != cd_size)
    return Status::Corruption("central directory has " + std::to_string(cd_size - pos) +
                              " bytes after its declared " + std::to_string(entries) + " entries");

  // 4. The manifest: local header + data in one read, CRC-32 checked, then parsed.
  if (manifest_member.size > kPackMaxManifestBytes)
    return Status::Corruption("manifest of " + std::to_string(manifest_member.size) +
                              " bytes is larger than the limit");
  STRATA_ASSIGN_OR_RETURN(
      std::string mbytes,
      ReadExact(manifest_member.header_offset,
                manifest_member.data_offset + manifest_member.size - manifest_member.header_offset));
  uint64_t mhdr = manifest_member.data_offset - manifest_member.header_offset;
  Status st = CheckLocalHeader(manifest_member, std::string_view(mbytes).substr(0, mhdr));
  if (!st.ok()) return st.WithContext("manifest");
  std::string_view mdata = std::string_view(mbytes).substr(mhdr);
  uint32_t mcrc = Crc32(mdata);
  if (mcrc != manifest_member.crc32)
    return Status::Corruption("manifest CRC-32 mismatch (directory " + Hex32(manifest_member.crc32) +
                              ", data " + Hex32(mcrc) + ")");
  manifest_offset_ = manifest_member.data_offset;
  manifest_length_ = manifest_member.size;
  manifest_xxh3_ = Xxh3(mdata);
  STRATA_ASSIGN_OR_RETURN(manifest_, DecodeManifest(mdata));
  mbytes.clear();

  // 5. Manifest versus directory, entry by entry.
  member_of_entry_.assign(manifest_.entries.size(), -1);
  std::vector<bool> member_listed(members_.size(), false);
  for (size_t i = 0; i < manifest_.entries.size(); ++i) {
    const PackEntry& e = manifest_.entries[i];
    std::string series, sop;
    if (Status s = ParsePackEntryName(e.name, &series, &sop); !s.ok()) {
      AddProblem(e.name, "manifest: " + s.message());
      continue;
    }
    if (by_name_.count(e.name)) {
      AddProblem(e.name, "listed twice in the manifest");
      continue;
    }
    by_name_.emplace(e.name, i);
    if (series != e.series_instance_uid || sop != e.sop_instance_uid)
      AddProblem(e.name, "manifest UIDs (series " + e.series_instance_uid.substr(0, 80) +
                             ", instance " + e.sop_instance_uid.substr(0, 80) +
                             ") disagree with the entry name");
    if (auto it = by_sop_.find(sop); it != by_sop_.end())
      AddProblem(e.name, "SOP Instance UID also used by " + manifest_.entries[it->second].name);
    else
      by_sop_.emplace(sop, i);
    if (Status s = ValidateUid(e.sop_class_uid, "sop_class_uid"); !s.ok())
      AddProblem(e.name, "manifest: " + s.message());
    if (Status s = ValidateUid(e.transfer_syntax, "transfer_syntax"); !s.ok())
      AddProblem(e.name, "manifest: " + s.message());
    auto mi = member_index.find(e.name);
    if (mi == member_index.end()) {
      AddProblem(e.name, "listed in the manifest but missing from the ZIP directory");
      continue;
    }
    member_of_entry_[i] = static_cast<int64_t>(mi->second);
    member_listed[mi->second] = true;
    const Member& m = members_[mi->second];
    if (!m.in_bounds) continue;  // already a problem
    std::string diff;
    if (e.offset != m.data_offset)
      diff += " offset " + std::to_string(e.offset) + " vs " + std::to_string(m.data_offset) + ";";
    if (e.length != m.size)
      diff += " length " + std::to_string(e.length) + " vs " + std::to_string(m.size) + ";";
    if (e.crc32 != m.crc32) diff += " crc32 " + Hex32(e.crc32) + " vs " + Hex32(m.crc32) + ";";
    if (!diff.empty()) {
      diff.pop_back();
      AddProblem(e.name, "manifest disagrees with the ZIP directory (manifest vs directory):" + diff);
    }
  }
  std::unordered_set<std::string> manifest_names;
  for (const PackEntry& e : manifest_.entries) manifest_names.insert(e.name);
  for (size_t k = 0; k < members_.size(); ++k)
    if (!member_listed[k] && !manifest_names.count(members_[k].name))
      AddProblem(members_[k].name, "in the ZIP directory but not in the manifest");
  return Status::OK();
}

const PackEntry* PackReader::Find(std::string_view key) const {
  const auto& index = key.find('/') != std::string_view::npos ? by_name_ : by_sop_;
  auto it = index.find(std::string(key));
  return it == index.end() ? nullptr : &manifest_.entries[it->second];
}

Result<std::string> PackReader::ReadEntry(std::string_view key) const {
  const PackEntry* e = Find(key);
  if (!e) return Status::NotFound((label_.empty() ? "pack" : "pack " + label_) + " has no entry " +
                                  std::string(key.substr(0, 200)));
  std::string what = EntryLabel(e->name);
  if (auto p = entry_problem_.find(e->name); p != entry_problem_.end())
    return Status::Corruption(what + ": " + p->second);
  size_t index = static_cast<size_t>(e - manifest_.entries.data());
  const Member& m = members_[static_cast<size_t>(member_of_entry_[index])];
  uint64_t header = m.data_offset - m.header_offset;
  auto bytes = ReadExact(m.header_offset, header + m.size);
  if (!bytes.ok()) return bytes.status().WithContext(what);
  Status st = CheckLocalHeader(m, std::string_view(*bytes).substr(0, header));
  if (!st.ok()) return st.WithContext(what);
  std::string data = std::move(bytes).value();
  data.erase(0, header);
  uint32_t crc = Crc32(data);
  if (crc != m.crc32)
    return Status::Corruption(what + ": CRC-32 mismatch (expected " + Hex32(m.crc32) +
                              ", data has " + Hex32(crc) + ")");
  STRATA_RETURN_IF_ERROR(VerifyEntryData(data, e->length, e->xxh3, what));
  return data;
}

Result<std::string> PackReader::ReadManifest() const {
  return ReadVerified(
      [this](uint64_t offset, uint64_t length) { return ReadExact(offset, length); },
      manifest_offset_, manifest_length_, manifest_xxh3_, EntryLabel(kPackManifestName));
}

PackVerifyReport PackReader::Verify() const {
  PackVerifyReport report;
  report.pack = label_;
  report.problems = problems_;
  report.bytes_checked = manifest_length_;  // checked by Open
  WindowReader window(source_, cd_offset_);
  for (size_t i = 0; i < manifest_.entries.size(); ++i) {
    const PackEntry& e = manifest_.entries[i];
    if (entry_problem_.count(e.name) || member_of_entry_[i] < 0) continue;  // reported already
    const Member& m = members_[static_cast<size_t>(member_of_entry_[i])];
    ++report.entries_checked;
    auto problem = [&](const Status& s) {
      report.problems.push_back(PackProblem{e.name, s.code(), s.message()});
    };
    std::string header;
    Status st = window.Read(m.header_offset, m.data_offset - m.header_offset,
                            [&](std::string_view piece) { header.append(piece); });
    if (!st.ok()) {
      problem(st);
      continue;
    }
    st = CheckLocalHeader(m, header);
    if (!st.ok()) {
      problem(st);
      continue;
    }
    uint32_t crc = 0;
    Xxh3Stream xxh;
    st = window.Read(m.data_offset, m.size, [&](std::string_view piece) {
      crc = Crc32(piece, crc);
      xxh.Update(piece);
    });
    if (!st.ok()) {
      problem(st);
      continue;
    }
    report.bytes_checked += m.size;
    if (crc != m.crc32) {
      problem(Status::Corruption("CRC-32 mismatch (expected " + Hex32(m.crc32) + ", data has " +
                                 Hex32(crc) + ")"));
      continue;
    }
    uint64_t x = xxh.Digest();
    if (x != e.xxh3) {
      problem(Status::Corruption("XXH3 mismatch (expected " + HexU64(e.xxh3) + ", data has " +
                                 HexU64(x) + ")"));
      continue;
    }
    ++report.entries_ok;
  }
  return report;
}

Status PackReader::VerifyEntryData(std::string_view data, uint64_t expected_length,
                                   uint64_t expected_xxh3, std::string_view what) {
  if (data.size() != expected_length)
    return Status::Corruption(std::string(what) + ": " + std::to_string(data.size()) +
                              " bytes, expected " + std::to_string(expected_length));
  uint64_t x = Xxh3(data);
  if (x != expected_xxh3)
    return Status::Corruption(std::string(what) + ": XXH3 mismatch (expected " +
                              HexU64(expected_xxh3) + ", data has " + HexU64(x) + ")");
  return Status::OK();
}

Result<std::string> PackReader::ReadVerified(const PackSource& source, uint64_t offset,
                                             uint64_t length, uint64_t expected_xxh3,
                                             std::string_view what) {
  auto bytes = source(offset, length);
  if (!bytes.ok()) return bytes.status().WithContext(std::string(what));
  STRATA_RETURN_IF_ERROR(VerifyEntryData(*bytes, length, expected_xxh3, what));
  return std::move(bytes).value();
}

Result<PackReader> OpenPackFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "open pack " + path);
  auto handle = std::shared_ptr<int>(new int(fd), [](int* p) {
    ::close(*p);
    delete p;
  });
  struct stat sb;
  if (::fstat(fd, &sb) != 0) return Status::FromErrno(errno, "stat pack " + path);
  if (!S_ISREG(sb.st_mode)) return Status::InvalidArgument(path + " is not a regular file");
  uint64_t size = static_cast<uint64_t>(sb.st_size);
  PackSource source = [handle, size, path](uint64_t offset, uint64_t length) -> Result<std::string> {
    if (offset > size || length > size - offset)
      return Status::InvalidArgument("read beyond the end of " + path);
    std::string out(length, '\0');
    uint64_t done = 0;
    while (done < length) {
      ssize_t n = ::pread(*handle, out.data() + done, length - done,
                          static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(errno, "read " + path);
      }
      if (n == 0) return Status::IOError("unexpected end of file in " + path);
      done += static_cast<uint64_t>(n);
    }
    return out;
  };
  return PackReader::Open(std::move(source), size, path);
}

}  // namespace strata
