#include "pack/pack_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <unordered_set>
#include <utility>

#include "model/uid.h"
#include "util/checksum.h"
#include "util/fd_io.h"

namespace strata {
namespace {

constexpr uint64_t kVerifyWindow = 8ull << 20;
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

Status PackReader::Load() {
  STRATA_ASSIGN_OR_RETURN(
      PackDirectory dir,
      ReadPackDirectory([this](uint64_t offset, uint64_t length) { return ReadExact(offset, length); }, size_));
  zip64_ = dir.zip64;
  cd_offset_ = dir.cd_offset;
  members_ = std::move(dir.members);
  for (const PackProblem& p : dir.problems) AddProblem(p.entry, p.message, p.code);
  STRATA_RETURN_IF_ERROR(LoadManifest(dir.manifest));
  CrossCheckManifest(dir.by_name);
  return Status::OK();
}

Status PackReader::LoadManifest(const Member& m) {
  if (m.size > kPackMaxManifestBytes)
    return Status::Corruption("manifest of " + std::to_string(m.size) + " bytes is larger than the limit");
  STRATA_ASSIGN_OR_RETURN(std::string bytes, ReadExact(m.header_offset, m.data_offset + m.size - m.header_offset));
  const uint64_t header = m.data_offset - m.header_offset;
  Status st = CheckLocalHeader(m, std::string_view(bytes).substr(0, header));
  if (!st.ok()) return st.WithContext("manifest");
  std::string_view data = std::string_view(bytes).substr(header);
  uint32_t crc = Crc32(data);
  if (crc != m.crc32)
    return Status::Corruption("manifest CRC-32 mismatch (directory " + Hex32(m.crc32) + ", data " + Hex32(crc) + ")");
  manifest_offset_ = m.data_offset;
  manifest_length_ = m.size;
  manifest_xxh3_ = Xxh3(data);
  STRATA_ASSIGN_OR_RETURN(manifest_, DecodeManifest(data));
  return Status::OK();
}

void PackReader::CheckManifestEntry(size_t i, const std::unordered_map<std::string, size_t>& by_name,
                                    std::vector<bool>* listed) {
  const PackEntry& e = manifest_.entries[i];
  std::string series, sop;
  if (Status s = ParsePackEntryName(e.name, &series, &sop); !s.ok()) {
    AddProblem(e.name, "manifest: " + s.message());
    return;
  }
  if (by_name_.count(e.name)) {
    AddProblem(e.name, "listed twice in the manifest");
    return;
  }
  by_name_.emplace(e.name, i);
  if (series != e.series_instance_uid || sop != e.sop_instance_uid)
    AddProblem(e.name, "manifest UIDs (series " + e.series_instance_uid.substr(0, 80) + ", instance " +
                           e.sop_instance_uid.substr(0, 80) + ") disagree with the entry name");
  if (auto it = by_sop_.find(sop); it != by_sop_.end())
    AddProblem(e.name, "SOP Instance UID also used by " + manifest_.entries[it->second].name);
  else
    by_sop_.emplace(sop, i);
  if (Status s = ValidateUid(e.sop_class_uid, "sop_class_uid"); !s.ok()) AddProblem(e.name, "manifest: " + s.message());
  if (Status s = ValidateUid(e.transfer_syntax, "transfer_syntax"); !s.ok())
    AddProblem(e.name, "manifest: " + s.message());
  auto mi = by_name.find(e.name);
  if (mi == by_name.end()) {
    AddProblem(e.name, "listed in the manifest but missing from the ZIP directory");
    return;
  }
  member_of_entry_[i] = static_cast<int64_t>(mi->second);
  (*listed)[mi->second] = true;
  const Member& m = members_[mi->second];
  if (!m.in_bounds) return;  // already a problem
  std::string diff;
  if (e.offset != m.data_offset) diff += " offset " + std::to_string(e.offset) + " vs " + std::to_string(m.data_offset) + ";";
  if (e.length != m.size) diff += " length " + std::to_string(e.length) + " vs " + std::to_string(m.size) + ";";
  if (e.crc32 != m.crc32) diff += " crc32 " + Hex32(e.crc32) + " vs " + Hex32(m.crc32) + ";";
  if (!diff.empty()) {
    diff.pop_back();
    AddProblem(e.name, "manifest disagrees with the ZIP directory (manifest vs directory):" + diff);
  }
}

void PackReader::CrossCheckManifest(const std::unordered_map<std::string, size_t>& by_name) {
  member_of_entry_.assign(manifest_.entries.size(), -1);
  std::vector<bool> listed(members_.size(), false);
  for (size_t i = 0; i < manifest_.entries.size(); ++i) CheckManifestEntry(i, by_name, &listed);
  std::unordered_set<std::string> manifest_names;
  for (const PackEntry& e : manifest_.entries) manifest_names.insert(e.name);
  for (size_t k = 0; k < members_.size(); ++k)
    if (!listed[k] && !manifest_names.count(members_[k].name))
      AddProblem(members_[k].name, "in the ZIP directory but not in the manifest");
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
    STRATA_RETURN_IF_ERROR(PreadExact(*handle, out.data(), out.size(), offset, path));
    return out;
  };
  return PackReader::Open(std::move(source), size, path);
}

}  // namespace strata
