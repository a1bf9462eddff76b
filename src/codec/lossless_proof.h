// The proof that a transcoded file gives back what was received: the re-encoded Part 10 file
// is decoded again and compared with the original, every pixel sample of every frame and
// every attribute of the data set.
//
//   Status proof = ProveTranscode(original, encoded, ProofKind::kLossless);
//   if (!proof.ok()) { keep `original`; log proof.message() }
//
// The decoder is independent of the encoder where the libraries allow: HTJ2K (encoded by
// OpenJPH) is decoded by OpenJPEG; JPEG 2000 (OpenJPEG) and JPEG-LS (DCMTK dcmjpls) by the
// same library that encoded them, which still catches any fault of our glue.
//
// What a transcode may change (everything else must be equal):
//   - the file meta information (group 0002), which describes the file and not the instance
//     (PS3.10 7.1) and is rebuilt by the writer: it must name the encoded syntax, and its Media
//     Storage SOP Class/Instance UID must equal the data set's SOP Class/Instance UID;
//   - Pixel Data (7FE0,0010) encoding (its decoded samples must be equal);
//   - Extended Offset Table and its Lengths (7FE0,0001/0002), which describe an encoding;
//   - Planar Configuration (0028,0006) (PS3.5 8.2.4: 0 for JPEG 2000; samples compared by value);
//   - Photometric Interpretation RGB -> YBR_RCT for JPEG 2000 / HTJ2K (reversible colour
//     transform, PS3.5 8.2.4), which must decode back to RGB;
//   - Group Length elements (gggg,0000), recomputed by the writer;
//   - for ProofKind::kLossy only: Lossy Image Compression (0028,2110) "01" with its Ratio and
//     Method (0028,2112/2114) appended (PS3.3 C.7.6.1.1.5), RGB -> YBR_ICT, and pixel values.
// Thread-safe for distinct inputs.
#pragma once

#include <string_view>

#include "util/status.h"

namespace strata::codec {

enum class ProofKind {
  kLossless,  // every decoded sample equals the original's
  kLossy,     // the encoded file decodes to an image of the same geometry, attributes kept
};

// OK when `encoded` passes the proof against `original` (both whole Part 10 files; `original`
// native or in any syntax we can decode). Otherwise kCorruption whose message is the reason
// (first differing sample or attribute, or the decode error).
Status ProveTranscode(std::string_view original, std::string_view encoded, ProofKind kind);

}  // namespace strata::codec
