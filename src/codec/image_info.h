// The Image Pixel attributes (PS3.3 C.7.6.3) that say how a native frame is laid out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "util/status.h"

class DcmItem;

namespace strata::codec {

struct ImageInfo {
  uint32_t rows = 0;
  uint32_t columns = 0;
  uint32_t samples_per_pixel = 1;
  uint32_t bits_allocated = 0;
  uint32_t bits_stored = 0;
  uint32_t high_bit = 0;
  uint32_t pixel_representation = 0;   // 0 unsigned, 1 two's complement
  uint32_t planar_configuration = 0;   // 0 colour-by-pixel, 1 colour-by-plane
  uint32_t frames = 1;
  std::string photometric;             // e.g. "MONOCHROME2", "RGB"

  bool is_signed() const { return pixel_representation == 1; }
  uint32_t bytes_per_sample() const { return bits_allocated / 8; }
  // Bytes of one native frame (bits_allocated must be a multiple of 8).
  size_t frame_bytes() const {
    return size_t{rows} * columns * samples_per_pixel * bytes_per_sample();
  }
};

// Reads the attributes from `item` (the data set, not an icon sequence item). Missing
// mandatory attributes give kInvalidArgument; Number of Frames defaults to 1.
Result<ImageInfo> ReadImageInfo(DcmItem& item);

// What the JPEG 2000 and HTJ2K encoders/decoders take: 1 or 3 samples, 8- or 16-bit
// allocation, 1..BitsAllocated bits stored. InvalidArgument naming the offending attribute.
Status CheckWaveletLayout(const ImageInfo& info);

}  // namespace strata::codec
