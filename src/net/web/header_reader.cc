#include "net/web/header_reader.h"


#include <cerrno>
#include <optional>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include "archive/correction_patch.h"
#include "codec/part10_io.h"
#include "dicom/transfer_syntax.h"
#include "util/little_endian.h"

namespace strata::web {
namespace {

constexpr size_t kPreamble = 128;
constexpr size_t kFirstRead = 16 * 1024;
constexpr int kMaxDepth = 24;

bool LongLengthVr(const char* vr) {
  static const char* kLong[] = {"OB", "OW", "OF", "OD", "OL", "OV", "SQ", "UT", "UN", "UC", "UR", "SV", "UV"};
  for (const char* l : kLong)
    if (vr[0] == l[0] && vr[1] == l[1]) return true;
  return false;
}

std::string TrimUid(std::string_view v) {
  while (!v.empty() && (v.back() == '\0' || v.back() == ' ')) v.remove_suffix(1);
  return std::string(v);
}

enum class Step { kOk, kNeedMore, kBad };

// Walks the DICOM element structure (little endian) of a data set prefix.
class Walker {
 public:
  explicit Walker(std::string_view b) : b_(b) {}

  // Skips the element at POS (which must not be a delimiter). Sets POS past it.
  Step SkipElement(size_t& pos, bool explicit_vr, int depth) {
    if (depth > kMaxDepth) return Step::kBad;
    if (pos + 8 > b_.size()) return Step::kNeedMore;
    const char* p = b_.data() + pos;
    const uint16_t group = Le16(p);
    uint64_t length;
    size_t header;
    bool sequence_like = false;
    bool nested_explicit = explicit_vr;
    if (group == 0xFFFE) return Step::kBad;  // an item or delimiter where an element belongs
    if (explicit_vr) {
      const char vr[2] = {p[4], p[5]};
      if (vr[0] < 'A' || vr[0] > 'Z' || vr[1] < 'A' || vr[1] > 'Z') return Step::kBad;
      if (LongLengthVr(vr)) {
        if (pos + 12 > b_.size()) return Step::kNeedMore;
        length = Le32(p + 8);
        header = 12;
      } else {
        length = Le16(p + 6);
        header = 8;
      }
      if (vr[0] == 'S' && vr[1] == 'Q') sequence_like = true;
      if (vr[0] == 'U' && vr[1] == 'N' && length == 0xFFFFFFFFu) {
        sequence_like = true;  // UN of undefined length: a sequence in implicit VR (PS3.5 6.2.2)
        nested_explicit = false;
      }
    } else {
      length = Le32(p + 4);
      header = 8;
      sequence_like = length == 0xFFFFFFFFu;  // only sequences have undefined length here
    }
    pos += header;
    if (length != 0xFFFFFFFFu) {
      if (pos + length > b_.size()) {
        pos += length;  // lets the caller see how far it would go
        return Step::kNeedMore;
      }
      pos += length;
      return Step::kOk;
    }
    if (!sequence_like) return Step::kBad;  // undefined length outside a sequence (not before 7FE0)
    return SkipItems(pos, nested_explicit, depth + 1);
  }

 private:
  // Items up to and including the sequence delimiter.
  Step SkipItems(size_t& pos, bool explicit_vr, int depth) {
    for (;;) {
      if (pos + 8 > b_.size()) return Step::kNeedMore;
      const char* p = b_.data() + pos;
      const uint16_t group = Le16(p), element = Le16(p + 2);
      const uint32_t length = Le32(p + 4);
      if (group != 0xFFFE) return Step::kBad;
      pos += 8;
      if (element == 0xE0DD) return Step::kOk;  // sequence delimitation
      if (element != 0xE000) return Step::kBad;
      if (length != 0xFFFFFFFFu) {
        if (pos + length > b_.size()) return Step::kNeedMore;
        pos += length;
        continue;
      }
      // Item of undefined length: elements up to the item delimiter.
      for (;;) {
        if (pos + 8 > b_.size()) return Step::kNeedMore;
        const char* q = b_.data() + pos;
        if (Le16(q) == 0xFFFE) {
          if (Le16(q + 2) != 0xE00D) return Step::kBad;
          pos += 8;
          break;
        }
        Step s = SkipElement(pos, explicit_vr, depth + 1);
        if (s != Step::kOk) return s;
      }
    }
  }

  std::string_view b_;
};

// Up to N bytes from the start of RECORD's stored bytes, and its total size: through the
// archive, which checks them (Archive::ReadHeaderPrefix says how far a prefix is verified).
Result<std::string> ReadPrefix(Archive* archive, const InstanceRecord& record, uint64_t n, uint64_t* total) {
  return archive->ReadHeaderPrefix(record, n, total);
}

}  // namespace

Result<MetaInfo> ParseMetaInfo(std::string_view b) {
  if (b.size() < kPreamble + 4) return Status::NotFound("meta information not complete");
  if (b.substr(kPreamble, 4) != "DICM") return Status::InvalidArgument("not a DICOM Part 10 file (no DICM prefix)");
  MetaInfo m;
  size_t pos = kPreamble + 4;
  for (;;) {
    if (pos + 8 > b.size()) return Status::NotFound("meta information not complete");
    const char* p = b.data() + pos;
    if (Le16(p) != 0x0002) break;
    const uint16_t element = Le16(p + 2);
    const char vr[2] = {p[4], p[5]};
    size_t header = 8;
    uint64_t length = Le16(p + 6);
    if (LongLengthVr(vr)) {
      if (pos + 12 > b.size()) return Status::NotFound("meta information not complete");
      length = Le32(p + 8);
      header = 12;
    }
    if (length == 0xFFFFFFFFu) return Status::InvalidArgument("malformed file meta information");
    if (pos + header + length > b.size()) return Status::NotFound("meta information not complete");
    const std::string_view value = b.substr(pos + header, length);
    if (element == 0x0002) m.sop_class_uid = TrimUid(value);
    if (element == 0x0003) m.sop_instance_uid = TrimUid(value);
    if (element == 0x0010) m.transfer_syntax = TrimUid(value);
    pos += header + length;
  }
  if (m.transfer_syntax.empty()) return Status::InvalidArgument("file meta information has no Transfer Syntax UID");
  m.dataset_offset = pos;
  return m;
}

Result<HeaderExtent> FindHeaderExtent(std::string_view bytes, bool whole_file) {
  HeaderExtent out;
  auto meta = ParseMetaInfo(bytes);
  if (!meta.ok()) {
    if (meta.status().IsNotFound() && !whole_file) return out;  // kNeedMore
    return meta.status();
  }
  const std::string& ts = meta->transfer_syntax;
  if (ts == syntax::kDeflatedLE || ts == syntax::kExplicitBE) {
    out.kind = HeaderExtent::Kind::kUnwalkable;
    return out;
  }
  const bool explicit_vr = ts != syntax::kImplicitLE;
  Walker w(bytes);
  size_t pos = meta->dataset_offset;
  for (;;) {
    if (pos == bytes.size() && whole_file) {
      out.kind = HeaderExtent::Kind::kFound;
      out.end = pos;
      return out;
    }
    if (pos + 4 > bytes.size()) {
      if (whole_file) return Status::Corruption("data set ends inside an element");
      return out;
    }
    if (Le16(bytes.data() + pos) >= 0x7FE0) {
      out.kind = HeaderExtent::Kind::kFound;
      out.end = pos;
      return out;
    }
    switch (w.SkipElement(pos, explicit_vr, 0)) {
      case Step::kOk:
        break;
      case Step::kNeedMore:
        if (whole_file) return Status::Corruption("data set ends inside an element");
        out.kind = HeaderExtent::Kind::kNeedMore;
        out.end = pos;  // a hint: at least this many bytes are needed
        return out;
      case Step::kBad:
        out.kind = HeaderExtent::Kind::kUnwalkable;
        return out;
    }
  }
}

namespace {

// RECORD as the catalog has it now, when it moved since RECORD was read; nullopt otherwise.
std::optional<InstanceRecord> Relocated(Archive* archive, const InstanceRecord& record, const Status& error) {
  if (!error.IsNotFound()) return std::nullopt;
  auto now = archive->GetInstance(record.sop_uid);
  if (!now.ok()) return std::nullopt;
  const Location &a = record.location, &b = now->location;
  if (a.tier == b.tier && a.hot_path == b.hot_path && a.pack_key == b.pack_key && a.offset == b.offset)
    return std::nullopt;
  return std::move(now).value();
}

Result<std::unique_ptr<DcmFileFormat>> ReadHeaderOnce(Archive* archive, const InstanceRecord& record) {
  uint64_t want = kFirstRead;
  std::string bytes;
  size_t end = 0;
  for (;;) {
    uint64_t total = 0;
    STRATA_ASSIGN_OR_RETURN(bytes, ReadPrefix(archive, record, want, &total));
    const bool whole = bytes.size() >= total;
    STRATA_ASSIGN_OR_RETURN(HeaderExtent ext, FindHeaderExtent(bytes, whole));
    if (ext.kind == HeaderExtent::Kind::kFound) {
      end = ext.end;
      break;
    }
    if (ext.kind == HeaderExtent::Kind::kUnwalkable) {
      STRATA_ASSIGN_OR_RETURN(bytes, archive->Read(record));  // whole and verified
      end = bytes.size();
      break;
    }
    if (whole) return Status::Corruption("instance " + record.sop_uid + " ends inside its header");
    want = std::max<uint64_t>(want * 8, ext.end + 4096);
  }
  bytes.resize(end);
  STRATA_ASSIGN_OR_RETURN(codec::Part10File parsed, codec::ReadPart10(bytes));
  return std::move(parsed.file);
}

}  // namespace

Result<std::unique_ptr<DcmFileFormat>> ReadInstanceHeader(Archive* archive, const InstanceRecord& record) {
  auto r = ReadHeaderOnce(archive, record);
  if (!r.ok()) {
    auto moved = Relocated(archive, record, r.status());
    if (!moved) return r;
    r = ReadHeaderOnce(archive, *moved);
    if (!r.ok()) return r;
  }
  // Served as retrievals serve the instance: with the study's corrections (archive/correction_patch.h).
  STRATA_ASSIGN_OR_RETURN(auto corrections, archive->ListCorrections(record.study_uid));
  STRATA_ASSIGN_OR_RETURN(bool changed,
                          ApplyCorrections(r.value()->getDataset(), corrections, archive->ModifyingSystem()));
  (void)changed;
  return r;
}

Result<std::string> ReadInstance(Archive* archive, const InstanceRecord& record) {
  return archive->ReadServed(record);  // follows an instance the converter packed meanwhile
}

}  // namespace strata::web
