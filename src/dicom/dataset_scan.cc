#include "dicom/dataset_scan.h"

#include <zlib.h>

#include <dcmtk/dcmdata/dctag.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "dicom/transfer_syntax.h"
#include "model/uid.h"
#include "util/checksum.h"

namespace strata {
namespace {

constexpr size_t kChunk = 1 << 20;  // read size; memory stays at a few chunks
constexpr uint32_t kUndefined = 0xFFFFFFFFu;
constexpr uint32_t kItem = 0xFFFEE000u, kItemDelim = 0xFFFEE00Du, kSeqDelim = 0xFFFEE0DDu;
constexpr uint32_t kPixelData = 0x7FE00010u;
constexpr uint32_t kFragmentPrefix = 1024;  // enough to see the markers before a JPEG frame header

std::string Hex8(uint32_t tag) {
  char b[16];
  std::snprintf(b, sizeof b, "(%04X,%04X)", tag >> 16, tag & 0xFFFF);
  return b;
}

Status Malformed(uint64_t at, const std::string& why) {
  return Status::InvalidArgument("malformed data set at byte " + std::to_string(at) + ": " + why);
}

// A byte stream with a window of buffered bytes: Ensure(n) makes n bytes visible (fewer only
// at the end), Consume(n) moves past them.
class Stream {
 public:
  virtual ~Stream() = default;
  virtual Status Ensure(size_t n) = 0;
  virtual const uint8_t* data() const = 0;
  virtual size_t avail() const = 0;
  virtual void Consume(size_t n) = 0;
  virtual uint64_t pos() const = 0;  // bytes consumed so far

  // N exact bytes into OUT, or InvalidArgument "truncated".
  Status Read(size_t n, uint8_t* out) {
    STRATA_RETURN_IF_ERROR(Ensure(n));
    if (avail() < n) return Malformed(pos(), "the stream ends inside an element header");
    std::memcpy(out, data(), n);
    Consume(n);
    return Status::OK();
  }
  // Moves past N bytes of a value (they are still read: the checksums cover them).
  Status Skip(uint64_t n, const char* what) {
    const uint64_t start = pos();
    while (n > 0) {
      STRATA_RETURN_IF_ERROR(Ensure(static_cast<size_t>(std::min<uint64_t>(n, kChunk))));
      if (avail() == 0)
        return Malformed(start, std::string("the stream ends inside the value of ") + what + " (" +
                                    std::to_string(pos() - start) + " of " + std::to_string(pos() - start + n) +
                                    " bytes present)");
      const size_t take = static_cast<size_t>(std::min<uint64_t>(n, avail()));
      Consume(take);
      n -= take;
    }
    return Status::OK();
  }
  Result<bool> AtEnd() {
    STRATA_RETURN_IF_ERROR(Ensure(1));
    return avail() == 0;
  }
};

// The file itself; hashes every byte it consumes (and, once started, the data set bytes).
class FileStream : public Stream {
 public:
  explicit FileStream(std::unique_ptr<SequentialFile> f) : file_(std::move(f)) {}
  Status Ensure(size_t n) override {
    if (buf_.size() - off_ >= n || eof_) return Status::OK();
    buf_.erase(0, off_);
    off_ = 0;
    while (buf_.size() < n && !eof_) {
      STRATA_RETURN_IF_ERROR(file_->Read(std::max(n - buf_.size(), kChunk), &tmp_));
      if (tmp_.empty()) eof_ = true;
      buf_ += tmp_;
    }
    return Status::OK();
  }
  const uint8_t* data() const override { return reinterpret_cast<const uint8_t*>(buf_.data()) + off_; }
  size_t avail() const override { return buf_.size() - off_; }
  void Consume(size_t n) override {
    std::string_view v(buf_.data() + off_, n);
    file_hash_.Update(v);
    if (dataset_) dataset_hash_.Update(v);
    off_ += n;
    pos_ += n;
  }
  uint64_t pos() const override { return pos_; }
  void StartDatasetHash() { dataset_ = true; }
  uint64_t FileDigest() const { return file_hash_.Digest(); }
  uint64_t DatasetDigest() const { return dataset_hash_.Digest(); }

 private:
  std::unique_ptr<SequentialFile> file_;
  std::string buf_, tmp_;
  size_t off_ = 0;
  uint64_t pos_ = 0;
  bool eof_ = false, dataset_ = false;
  Xxh3Stream file_hash_, dataset_hash_;
};

// The inflated view of a deflated data set (PS3.5 §A.5: raw deflate after the meta group).
class InflateStream : public Stream {
 public:
  explicit InflateStream(FileStream* raw) : raw_(raw) { std::memset(&z_, 0, sizeof z_); }
  ~InflateStream() override {
    if (init_) inflateEnd(&z_);
  }
  Status Init() {
    STRATA_RETURN_IF_ERROR(raw_->Ensure(2));
    // Some writers wrap the stream in a zlib header; accept both.
    int bits = -MAX_WBITS;
    if (raw_->avail() >= 2) {
      const uint8_t* d = raw_->data();
      if ((d[0] & 0x0F) == 8 && ((d[0] << 8) | d[1]) % 31 == 0) bits = MAX_WBITS;
    }
    if (inflateInit2(&z_, bits) != Z_OK) return Status::Internal("inflateInit2 failed");
    init_ = true;
    return Status::OK();
  }
  Status Ensure(size_t n) override {
    if (out_.size() - off_ >= n || done_) return Status::OK();
    out_.erase(0, off_);
    off_ = 0;
    while (out_.size() < n && !done_) {
      STRATA_RETURN_IF_ERROR(raw_->Ensure(1));
      if (raw_->avail() == 0) return Malformed(raw_->pos(), "the deflated data set ends before its deflate stream");
      const size_t have = out_.size();
      const size_t room = std::max(n - have, kChunk);
      out_.resize(have + room);
      z_.next_in = const_cast<Bytef*>(raw_->data());
      z_.avail_in = static_cast<uInt>(std::min<size_t>(raw_->avail(), kChunk));
      z_.next_out = reinterpret_cast<Bytef*>(&out_[have]);
      z_.avail_out = static_cast<uInt>(room);
      const uInt in_before = z_.avail_in;
      int rc = inflate(&z_, Z_NO_FLUSH);
      raw_->Consume(in_before - z_.avail_in);
      out_.resize(have + (room - z_.avail_out));
      if (rc == Z_STREAM_END) {
        done_ = true;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return Malformed(raw_->pos(), std::string("corrupt deflate stream: ") + (z_.msg ? z_.msg : "error"));
      }
    }
    return Status::OK();
  }
  const uint8_t* data() const override { return reinterpret_cast<const uint8_t*>(out_.data()) + off_; }
  size_t avail() const override { return out_.size() - off_; }
  void Consume(size_t n) override {
    off_ += n;
    pos_ += n;
  }
  uint64_t pos() const override { return pos_; }

 private:
  FileStream* raw_;
  z_stream z_;
  bool init_ = false, done_ = false;
  std::string out_;
  size_t off_ = 0;
  uint64_t pos_ = 0;
};

bool IsIdentityUid(uint32_t tag) {
  return tag == 0x00080016u || tag == 0x00080018u || tag == 0x0020000Du || tag == 0x0020000Eu;
}

struct Encoding {
  bool explicit_vr = true;
  bool big_endian = false;
};

uint16_t U16(const uint8_t* p, bool be) { return be ? (p[0] << 8 | p[1]) : (p[1] << 8 | p[0]); }
uint32_t U32(const uint8_t* p, bool be) {
  return be ? (uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3])
            : (uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0]);
}

bool HasLongLength(const char vr[2]) {
  static const char* kLong[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"};
  for (const char* l : kLong)
    if (vr[0] == l[0] && vr[1] == l[1]) return true;
  return false;
}
bool IsKnownVr(const char vr[2]) {
  static const char* kShort[] = {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT",
                                 "PN", "SH", "SL", "SS", "ST", "TM", "UI", "UL", "US"};
  if (HasLongLength(vr)) return true;
  for (const char* s : kShort)
    if (vr[0] == s[0] && vr[1] == s[1]) return true;
  return false;
}

// One open sequence or item. END is the first byte after it, or 0 for undefined length.
struct Frame {
  bool is_sequence;
  uint64_t end;
  Encoding enc;  // how its children are encoded (UN of undefined length holds implicit LE)
  uint32_t tag;
};

class Scanner {
 public:
  Scanner(Stream* in, const DatasetScanOptions& o, DatasetScan* out) : in_(in), opt_(o), out_(out) {}

  // Walks the data set to the end of IN. PIXEL_OFFSET_BASE maps positions of IN to file
  // offsets (kept only for a stream that is not deflated).
  Status Run(Encoding top, bool record_offset, uint64_t base) {
    std::vector<Frame> stack;
    for (;;) {
      // Close defined-length containers that end here.
      while (!stack.empty() && stack.back().end != 0 && in_->pos() >= stack.back().end) {
        if (in_->pos() > stack.back().end)
          return Malformed(base + in_->pos(), "an element runs past the end of the " +
                                                  std::string(stack.back().is_sequence ? "sequence " : "item in ") +
                                                  Hex8(stack.back().tag));
        stack.pop_back();
      }
      STRATA_ASSIGN_OR_RETURN(bool end, in_->AtEnd());
      if (end) {
        if (!stack.empty())
          return Malformed(base + in_->pos(), "the stream ends inside the sequence " + Hex8(stack.back().tag));
        return Status::OK();
      }
      const Encoding enc = stack.empty() ? top : stack.back().enc;
      const uint64_t at = in_->pos();
      uint8_t h[8] = {};
      STRATA_RETURN_IF_ERROR(in_->Read(4, h));
      const uint32_t tag = uint32_t(U16(h, enc.big_endian)) << 16 | U16(h + 2, enc.big_endian);

      if ((tag >> 16) == 0xFFFE) {
        STRATA_RETURN_IF_ERROR(in_->Read(4, h));
        const uint32_t len = U32(h, enc.big_endian);
        Frame* f = stack.empty() ? nullptr : &stack.back();
        if (tag == kItem) {
          if (!f || !f->is_sequence) return Malformed(base + at, "an item outside a sequence");
          if (len != kUndefined && f->end != 0 && in_->pos() + len > f->end)
            return Malformed(base + at, "an item longer than its sequence " + Hex8(f->tag));
          stack.push_back({false, len == kUndefined ? 0 : in_->pos() + len, f->enc, f->tag});
        } else if (tag == kItemDelim) {
          if (!f || f->is_sequence || f->end != 0)
            return Malformed(base + at, "an item delimiter outside an item of undefined length");
          if (len != 0) return Malformed(base + at, "an item delimiter with a non-zero length");
          stack.pop_back();
        } else if (tag == kSeqDelim) {
          if (!f || !f->is_sequence || f->end != 0)
            return Malformed(base + at, "a sequence delimiter outside a sequence of undefined length");
          if (len != 0) return Malformed(base + at, "a sequence delimiter with a non-zero length");
          stack.pop_back();
        } else {
          return Malformed(base + at, "unknown delimiter tag " + Hex8(tag));
        }
        continue;
      }
      if (!stack.empty() && stack.back().is_sequence)
        return Malformed(base + at, "element " + Hex8(tag) + " where an item of " + Hex8(stack.back().tag) +
                                        " was expected");

      // A data element: VR (explicit) and length.
      char vr[2] = {0, 0};
      uint32_t len;
      if (enc.explicit_vr) {
        STRATA_RETURN_IF_ERROR(in_->Read(4, h));
        vr[0] = static_cast<char>(h[0]);
        vr[1] = static_cast<char>(h[1]);
        if (!IsKnownVr(vr))
          return Malformed(base + at, "element " + Hex8(tag) + " has an unknown VR '" + std::string(vr, 2) + "'");
        if (HasLongLength(vr)) {
          STRATA_RETURN_IF_ERROR(in_->Read(4, h + 4));
          len = U32(h + 4, enc.big_endian);
        } else {
          len = U16(h + 2, enc.big_endian);
        }
      } else {
        STRATA_RETURN_IF_ERROR(in_->Read(4, h));
        len = U32(h, enc.big_endian);
      }
      const bool top_level = stack.empty();
      if (top_level && tag == kPixelData && record_offset) out_->pixel_data_offset = base + at;

      const bool is_pixel = tag == kPixelData;
      bool is_sq = enc.explicit_vr ? (vr[0] == 'S' && vr[1] == 'Q') : false;
      Encoding child = enc;
      if (!enc.explicit_vr && !is_pixel) {
        // Implicit VR: undefined length means a sequence; a defined length is one if the
        // dictionary says so (DCMTK parses those recursively too).
        is_sq = len == kUndefined || DcmTag(DcmTagKey(tag >> 16, tag & 0xFFFF)).getEVR() == EVR_SQ;
      } else if (enc.explicit_vr && vr[0] == 'U' && vr[1] == 'N' && len == kUndefined) {
        is_sq = true;  // PS3.5 §6.2.2: UN of undefined length is an implicit VR LE sequence
        child = Encoding{false, false};
      }
      const Frame* parent = stack.empty() ? nullptr : &stack.back();
      if (len != kUndefined && parent && parent->end != 0 && in_->pos() + len > parent->end)
        return Malformed(base + at, "element " + Hex8(tag) + " is longer than the item holding it");

      if (is_sq && !is_pixel) {
        int depth = 1;
        for (const Frame& f : stack) depth += f.is_sequence ? 1 : 0;
        if (depth > opt_.max_sequence_depth)
          return Malformed(base + at, "sequences nest deeper than " + std::to_string(opt_.max_sequence_depth) +
                                          " levels");
        if (depth > out_->max_depth_seen) out_->max_depth_seen = depth;
        stack.push_back({true, len == kUndefined ? 0 : in_->pos() + len, child, tag});
        continue;
      }
      if (len == kUndefined) {
        if (!is_pixel) return Malformed(base + at, "element " + Hex8(tag) + " has an undefined length");
        STRATA_RETURN_IF_ERROR(Encapsulated(enc, top_level, base));
        continue;
      }
      if (top_level && is_pixel) out_->pixel.kind = PixelDataInfo::Kind::kNative;
      if (top_level && IsIdentityUid(tag) && len <= 256) {
        // Kept as sent: DCMTK drops inner spaces from UI values when it reads them.
        std::string v(len, '\0');
        STRATA_RETURN_IF_ERROR(in_->Read(len, reinterpret_cast<uint8_t*>(v.data())));
        out_->identity_uids[tag] = std::move(v);
        continue;
      }
      STRATA_RETURN_IF_ERROR(in_->Skip(len, Hex8(tag).c_str()));
    }
  }

 private:
  // Items of an encapsulated Pixel Data up to its sequence delimiter (PS3.5 §A.4).
  Status Encapsulated(Encoding enc, bool top_level, uint64_t base) {
    PixelDataInfo info;
    info.kind = PixelDataInfo::Kind::kEncapsulated;
    bool first = true;
    for (;;) {
      const uint64_t at = in_->pos();
      uint8_t h[8] = {};
      STRATA_RETURN_IF_ERROR(in_->Read(8, h));
      const uint32_t tag = uint32_t(U16(h, enc.big_endian)) << 16 | U16(h + 2, enc.big_endian);
      const uint32_t len = U32(h + 4, enc.big_endian);
      if (tag == kSeqDelim) {
        if (len != 0) return Malformed(base + at, "a sequence delimiter with a non-zero length");
        break;
      }
      if (tag != kItem) return Malformed(base + at, "encapsulated Pixel Data holds " + Hex8(tag) + ", not an item");
      if (len == kUndefined) return Malformed(base + at, "a Pixel Data fragment of undefined length");
      if (!first) {
        ++info.fragments;
        if (info.first_fragment_length == 0 && len > 0) {
          STRATA_RETURN_IF_ERROR(in_->Ensure(std::min<uint32_t>(len, kFragmentPrefix)));
          info.first_fragment.assign(reinterpret_cast<const char*>(in_->data()),
                                     std::min<size_t>({in_->avail(), size_t{len}, size_t{kFragmentPrefix}}));
          info.first_fragment_length = len;
        }
      }
      first = false;
      STRATA_RETURN_IF_ERROR(in_->Skip(len, "a Pixel Data fragment"));
    }
    if (top_level) out_->pixel = std::move(info);
    return Status::OK();
  }

  Stream* in_;
  const DatasetScanOptions& opt_;
  DatasetScan* out_;
};

}  // namespace

Result<DatasetScan> ScanPart10(Env* env, const std::string& path, const DatasetScanOptions& options) {
  STRATA_ASSIGN_OR_RETURN(auto file, env->NewSequentialFile(path));
  FileStream raw(std::move(file));
  DatasetScan out;
  uint8_t pre[132];
  STRATA_RETURN_IF_ERROR(raw.Ensure(132));
  if (raw.avail() < 132 || std::memcmp(raw.data() + 128, "DICM", 4) != 0)
    return Status::InvalidArgument("not a DICOM Part 10 file (no 'DICM' after the 128-byte preamble)");
  STRATA_RETURN_IF_ERROR(raw.Read(132, pre));

  // The meta group: Explicit VR LE, group 0002, small elements.
  for (;;) {
    STRATA_RETURN_IF_ERROR(raw.Ensure(8));
    if (raw.avail() < 8) break;  // a file with a meta group only
    if (U16(raw.data(), false) != 0x0002) break;
    const uint64_t at = raw.pos();
    uint8_t h[12] = {};
    STRATA_RETURN_IF_ERROR(raw.Read(8, h));
    const uint16_t elem = U16(h + 2, false);
    const char vr[2] = {static_cast<char>(h[4]), static_cast<char>(h[5])};
    if (!IsKnownVr(vr)) return Malformed(at, "meta element " + Hex8(0x00020000u | elem) + " has an unknown VR");
    uint32_t len = U16(h + 6, false);
    if (HasLongLength(vr)) {
      STRATA_RETURN_IF_ERROR(raw.Read(4, h + 8));
      len = U32(h + 8, false);
    }
    if (len == kUndefined) return Malformed(at, "a meta element of undefined length");
    if (elem == 0x0010) {
      if (len > 64 + 2) return Malformed(at, "TransferSyntaxUID longer than 64 characters");
      std::string v(len, '\0');
      STRATA_RETURN_IF_ERROR(raw.Read(len, reinterpret_cast<uint8_t*>(v.data())));
      out.transfer_syntax = TrimUid(v);
    } else {
      STRATA_RETURN_IF_ERROR(raw.Skip(len, "a meta element"));
    }
  }
  if (out.transfer_syntax.empty()) return Status::InvalidArgument("the meta group has no TransferSyntaxUID");
  out.dataset_offset = raw.pos();
  raw.StartDatasetHash();

  const std::string& ts = out.transfer_syntax;
  // A syntax not in the table (a private one) is read as explicit VR little endian.
  const TransferSyntax* syn = FindTransferSyntax(ts);
  const bool deflated = syn != nullptr && syn->deflated;
  Encoding enc;
  if (syn != nullptr) enc = {syn->explicit_vr, syn->big_endian};

  if (deflated) {
    InflateStream in(&raw);
    STRATA_RETURN_IF_ERROR(in.Init());
    Scanner s(&in, options, &out);
    STRATA_RETURN_IF_ERROR(s.Run(enc, false, 0));
    // What follows the deflate stream: at most one pad byte.
    uint8_t pad;
    STRATA_ASSIGN_OR_RETURN(bool end, raw.AtEnd());
    if (!end) STRATA_RETURN_IF_ERROR(raw.Read(1, &pad));
    STRATA_ASSIGN_OR_RETURN(end, raw.AtEnd());
    if (!end) return Malformed(raw.pos(), "bytes after the end of the deflated data set");
  } else {
    out.pixel_data_offset = 0;
    Scanner s(&raw, options, &out);
    STRATA_RETURN_IF_ERROR(s.Run(enc, true, 0));
  }
  out.file_size = raw.pos();
  if (deflated || out.pixel.kind == PixelDataInfo::Kind::kAbsent) out.pixel_data_offset = out.file_size;
  out.file_checksum = HexU64(raw.FileDigest());
  out.dataset_checksum = HexU64(raw.DatasetDigest());
  return out;
}

}  // namespace strata
