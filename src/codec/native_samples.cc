#include "codec/native_samples.h"

#include <fmt/format.h>

#include <bit>

namespace strata::codec {
namespace {

static_assert(std::endian::native == std::endian::little,
              "native pixel buffers are handled as little-endian byte strings");

inline int32_t ToValue(uint32_t raw, uint32_t bits_stored, bool is_signed) {
  const uint32_t shift = 32 - bits_stored;
  if (is_signed) return static_cast<int32_t>(raw << shift) >> shift;  // C++20: arithmetic shift
  return static_cast<int32_t>((raw << shift) >> shift);
}

// Byte offset of sample (c, y, 0) and the byte distance between neighbouring pixels in a row.
inline void RowGeometry(const ImageInfo& info, uint32_t c, uint32_t y, size_t* offset, size_t* step) {
  const size_t bps = info.bytes_per_sample();
  if (info.planar_configuration == 1 && info.samples_per_pixel > 1) {
    *offset = ((size_t{c} * info.rows + y) * info.columns) * bps;
    *step = bps;
  } else {
    *offset = (size_t{y} * info.columns * info.samples_per_pixel + c) * bps;
    *step = bps * info.samples_per_pixel;
  }
}

}  // namespace

void LoadRow(const ImageInfo& info, const uint8_t* frame, uint32_t c, uint32_t y, int32_t* dst) {
  size_t offset, step;
  RowGeometry(info, c, y, &offset, &step);
  const uint8_t* p = frame + offset;
  const bool sgn = info.is_signed();
  const uint32_t bs = info.bits_stored;
  if (info.bits_allocated == 8) {
    for (uint32_t x = 0; x < info.columns; ++x, p += step) dst[x] = ToValue(p[0], bs, sgn);
  } else {
    for (uint32_t x = 0; x < info.columns; ++x, p += step) {
      dst[x] = ToValue(uint32_t{p[0]} | (uint32_t{p[1]} << 8), bs, sgn);
    }
  }
}

void StoreRow(const ImageInfo& info, const int32_t* src, uint32_t c, uint32_t y, uint8_t* frame) {
  size_t offset, step;
  RowGeometry(info, c, y, &offset, &step);
  uint8_t* p = frame + offset;
  if (info.bits_allocated == 8) {
    for (uint32_t x = 0; x < info.columns; ++x, p += step) p[0] = static_cast<uint8_t>(src[x]);
  } else {
    for (uint32_t x = 0; x < info.columns; ++x, p += step) {
      const uint32_t raw = static_cast<uint32_t>(src[x]);
      p[0] = static_cast<uint8_t>(raw);
      p[1] = static_cast<uint8_t>(raw >> 8);
    }
  }
}

void ReinterpretRow(const ImageInfo& info, int32_t* row) {
  const bool sgn = info.is_signed();
  for (uint32_t x = 0; x < info.columns; ++x) {
    row[x] = ToValue(static_cast<uint32_t>(row[x]), info.bits_stored, sgn);
  }
}

Status CheckStoredBits(const ImageInfo& info, std::span<const uint8_t> pixels) {
  const uint32_t bs = info.bits_stored;
  const uint32_t ba = info.bits_allocated;
  if (bs == ba && ba >= 8) return Status::OK();  // every bit pattern is a value
  const bool sgn = info.is_signed();
  const uint32_t alloc_mask = ba >= 32 ? 0xFFFFFFFFu : ((1u << ba) - 1);
  const size_t bps = info.bytes_per_sample();
  const size_t count = pixels.size() / bps;
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* p = pixels.data() + i * bps;
    const uint32_t raw = bps == 1 ? p[0] : (uint32_t{p[0]} | (uint32_t{p[1]} << 8));
    const uint32_t back = static_cast<uint32_t>(ToValue(raw, bs, sgn)) & alloc_mask;
    if (back != raw) {
      return Status::InvalidArgument(fmt::format(
          "sample {} has bits set above High Bit {} (stored 0x{:x})", i, info.high_bit, raw));
    }
  }
  return Status::OK();
}

}  // namespace strata::codec
