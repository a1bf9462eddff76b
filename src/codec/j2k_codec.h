// JPEG 2000 Part 1 frames via OpenJPEG (libopenjp2): one native frame <-> one raw codestream
// (no JP2 box, as PS3.5 8.2.4 requires). Thread-safe: every call owns its OpenJPEG objects.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "codec/image_info.h"
#include "util/status.h"

namespace strata::codec {

struct J2kEncodeParams {
  // Reversible 5/3 wavelet without quantization: the decoded frame equals the input bit for
  // bit. False selects the irreversible 9/7 wavelet at `compression_ratio` (lossy).
  bool reversible = true;
  double compression_ratio = 10.0;  // only when !reversible; uncompressed bits / coded bits
  // Apply the component transform (RCT when reversible, ICT otherwise) to 3-sample images.
  // The caller must then set Photometric Interpretation YBR_RCT / YBR_ICT (PS3.5 8.2.4).
  bool color_transform = true;
  uint32_t max_decomposition_levels = 5;  // reduced for small images (wavelet_levels.h)
};

// Encodes one frame laid out per `info` (1 or 3 samples, 8 or 16 bits allocated, either
// planar configuration). Component precision = Bits Stored, signed per Pixel Representation.
Result<std::string> EncodeJ2kFrame(const ImageInfo& info, std::span<const uint8_t> frame,
                                   const J2kEncodeParams& params);

// Decodes `codestream` (a JP2 file is accepted too, and HTJ2K codestreams, which OpenJPEG
// 2.5 reads) into `out` (info.frame_bytes() bytes, laid out per info). The codestream must
// match info in size and component count, with precision <= Bits Allocated; a codestream
// using a component transform comes out as RGB. kCorruption for undecodable data.
Status DecodeJ2kFrame(const ImageInfo& info, std::string_view codestream, std::span<uint8_t> out);

}  // namespace strata::codec
