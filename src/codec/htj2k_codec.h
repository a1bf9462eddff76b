// High-Throughput JPEG 2000 (ISO/IEC 15444-15) frames via OpenJPH (libopenjph 0.9): one native
// frame <-> one raw HTJ2K codestream. Encoding is always reversible (5/3 wavelet, no
// quantization), so decode(encode(frame)) == frame bit for bit. Thread-safe: every call owns
// its codestream objects; OpenJPH's process-wide message handlers are installed once.
//
// The codestream bytes for one input may differ from run to run (never the decoded pixels):
// OpenJPH 0.9 decides whether to code an all-zero code-block from a maximum that takes in the
// uninitialised slack of its internal line buffers (valgrind: codeblock::encode). Such a
// block is then coded as one pass of zeros instead of being skipped. Do not compare HTJ2K
// output bytes to detect duplicates; compare decoded pixels or the source.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "codec/image_info.h"
#include "util/status.h"

namespace strata::codec {

struct Htj2kEncodeParams {
  // Reversible colour transform on 3-sample images; the caller then sets Photometric
  // Interpretation YBR_RCT (PS3.5 8.2.4 and A.4.x for HTJ2K).
  bool color_transform = true;
  uint32_t max_decomposition_levels = 5;  // reduced for small images (wavelet_levels.h)
  // RPCL is what 1.2.840.10008.1.2.4.202 requires and is fine for .201/.203 too.
  const char* progression_order = "RPCL";
  uint32_t block_size = 64;  // code-block width and height
  // Testing only: use exactly this many levels, even more than the image supports.
  int force_decomposition_levels = -1;
};

// Encodes one frame laid out per `info` (1 or 3 samples, 8 or 16 bits allocated, either planar
// configuration). Component precision = Bits Stored, signed per Pixel Representation.
Result<std::string> EncodeHtj2kFrame(const ImageInfo& info, std::span<const uint8_t> frame,
                                     const Htj2kEncodeParams& params);

// Decodes an HTJ2K (or plain JPEG 2000) codestream into `out` (info.frame_bytes() bytes, laid
// out per info). Uses OpenJPH; codestreams OpenJPH 0.9 is known to decode wrongly (more
// decomposition levels than the tile size supports) or rejects go to OpenJPEG instead.
Status DecodeHtj2kFrame(const ImageInfo& info, std::string_view codestream, std::span<uint8_t> out);

}  // namespace strata::codec
