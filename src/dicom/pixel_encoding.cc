#include "dicom/pixel_encoding.h"

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "dicom/transfer_syntax.h"

namespace strata {
namespace {

uint32_t U32Le(const std::string& b, size_t at) {
  return uint32_t(uint8_t(b[at])) | uint32_t(uint8_t(b[at + 1])) << 8 | uint32_t(uint8_t(b[at + 2])) << 16 |
         uint32_t(uint8_t(b[at + 3])) << 24;
}

// The frame-header marker of a JPEG stream (C0..CF except DHT/JPG/DAC, or F7 for JPEG-LS),
// 0 if the captured bytes end before it.
int FrameMarker(const std::string& b) {
  size_t p = 2;
  while (p + 4 <= b.size()) {
    if (uint8_t(b[p]) != 0xFF) return -1;
    const int m = uint8_t(b[p + 1]);
    if (m == 0xFF) { ++p; continue; }  // fill byte
    if ((m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) || m == 0xF7) return m;
    if (m == 0xD8 || m == 0xD9 || m == 0xDA) return -1;  // SOI/EOI/SOS before a frame header
    const size_t len = (uint8_t(b[p + 2]) << 8) | uint8_t(b[p + 3]);
    if (len < 2) return -1;
    p += 2 + len;
  }
  return 0;
}

std::string Hex(const std::string& b, size_t n) {
  static const char* d = "0123456789ABCDEF";
  std::string s;
  for (size_t i = 0; i < std::min(n, b.size()); ++i) {
    s += d[uint8_t(b[i]) >> 4];
    s += d[uint8_t(b[i]) & 15];
  }
  return s.empty() ? "nothing" : s;
}

Status Refuse(const std::string& ts, const std::string& why) {
  return Status::InvalidArgument("the data set does not fit its transfer syntax " + ts + ": " + why);
}

Status CheckRleHeader(const std::string& ts, const PixelDataInfo& p) {
  const std::string& b = p.first_fragment;
  if (p.first_fragment_length < 64 || b.size() < 64)
    return Refuse(ts, "the first fragment is shorter than an RLE header (64 bytes)");
  const uint32_t n = U32Le(b, 0);
  if (n < 1 || n > 15) return Refuse(ts, "an RLE header must announce 1..15 segments, not " + std::to_string(n));
  uint32_t prev = 0;
  for (uint32_t i = 0; i < 15; ++i) {
    const uint32_t off = U32Le(b, 4 + 4 * i);
    if (i >= n) {
      if (off != 0) return Refuse(ts, "the RLE header has an offset beyond its segment count");
      continue;
    }
    if (i == 0 ? off != 64 : off <= prev)
      return Refuse(ts, "the RLE segment offsets are not increasing from 64");
    if (off >= p.first_fragment_length) return Refuse(ts, "an RLE segment offset lies beyond the fragment");
    prev = off;
  }
  return Status::OK();
}

}  // namespace

Status CheckPixelEncoding(const std::string& ts, const PixelDataInfo& p) {
  if (p.kind == PixelDataInfo::Kind::kAbsent) return Status::OK();
  using Family = PixelFamily;
  const Family f = PixelFamilyOf(ts);
  if (f == Family::kUnknown || f == Family::kReferenced) return Status::OK();  // no opinion
  if (f == Family::kNative) {
    if (p.kind != PixelDataInfo::Kind::kNative) return Refuse(ts, "the syntax is native but Pixel Data is encapsulated");
    return Status::OK();
  }
  if (p.kind != PixelDataInfo::Kind::kEncapsulated)
    return Refuse(ts, "the syntax is encapsulated but Pixel Data is native (defined length)");
  if (f == Family::kOtherEncapsulated) return Status::OK();
  if (p.first_fragment_length == 0) return Refuse(ts, "encapsulated Pixel Data without a non-empty fragment");
  const std::string& b = p.first_fragment;
  const bool soi = b.size() >= 2 && uint8_t(b[0]) == 0xFF && uint8_t(b[1]) == 0xD8;
  switch (f) {
    case Family::kJpeg:
    case Family::kJpegLs: {
      if (!soi) return Refuse(ts, "the first fragment does not start with a JPEG SOI marker (starts " + Hex(b, 4) + ")");
      const int m = FrameMarker(b);
      if (f == Family::kJpegLs && m != 0 && m != 0xF7)
        return Refuse(ts, "the JPEG stream has no JPEG-LS frame header (SOF55)");
      if (f == Family::kJpeg && m == 0xF7) return Refuse(ts, "the stream is JPEG-LS, not JPEG");
      if (m < 0) return Refuse(ts, "the JPEG markers before the frame header are malformed");
      return Status::OK();
    }
    case Family::kJ2k: {
      const bool codestream = b.size() >= 4 && uint8_t(b[0]) == 0xFF && uint8_t(b[1]) == 0x4F &&
                              uint8_t(b[2]) == 0xFF && uint8_t(b[3]) == 0x51;
      static const char kJp2[12] = {0, 0, 0, 0x0C, 'j', 'P', ' ', ' ', 0x0D, 0x0A, static_cast<char>(0x87), 0x0A};
      const bool jp2 = b.size() >= 12 && b.compare(0, 12, std::string(kJp2, 12)) == 0;
      if (!codestream && !jp2)
        return Refuse(ts, "the first fragment is neither a JPEG 2000 codestream nor a JP2 file (starts " + Hex(b, 4) + ")");
      return Status::OK();
    }
    case Family::kRle:
      return CheckRleHeader(ts, p);
    default:
      return Status::OK();
  }
}

}  // namespace strata
