// How many wavelet decomposition levels a JPEG 2000 / HTJ2K encoder may use for an image.
#pragma once

#include <algorithm>
#include <cstdint>

namespace strata::codec {

// min(max_levels, floor(log2(min(width, height)))): the lowest resolution keeps at least one
// sample per direction. OpenJPEG refuses more levels than that, and OpenJPH 0.9 decodes
// codestreams with 2^(levels-1) >= min(width, height) wrongly (see htj2k_codec.cc).
inline uint32_t DecompositionLevelsFor(uint32_t width, uint32_t height, uint32_t max_levels) {
  uint32_t smallest = std::min(width, height);
  uint32_t levels = 0;
  while (levels < max_levels && (uint64_t{1} << (levels + 1)) <= smallest) ++levels;
  return levels;
}

}  // namespace strata::codec
