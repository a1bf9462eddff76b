// Turning the Pixel Data of a parsed data set into native pixels and into a target syntax.
// These are the building blocks of Transcoder::Transcode and what a benchmark times: they work
// on DCMTK objects in memory, without Part 10 parsing or serializing.
//
// Only the top-level Pixel Data is touched (icon sequences stay as they are, DCMTK writes them
// native). On error the data set may be half converted: discard it.
// Thread-safe for distinct data sets.
#pragma once

#include <string>
#include <string_view>

#include "codec/syntax_table.h"
#include "codec/transcode_options.h"
#include "util/status.h"

class DcmDataset;

namespace strata::codec {

// The Status for images that cannot be compressed: kInvalidArgument, message
// "not compressible: <why>". The caller stores such a file as received and logs the reason.
Status NotCompressible(std::string_view why);
// True for a Status made by NotCompressible (checked before any WithContext prefix is added).
bool IsNotCompressible(const Status& status);

// Replaces encapsulated Pixel Data stored in `source` by native little-endian pixels (every
// frame, colour-by-pixel for the OpenJPEG/OpenJPH decoders). Photometric Interpretation
// YBR_RCT/YBR_ICT becomes RGB (the decoder undid the component transform); the Extended Offset
// Table goes. Lossy Image Compression is left as it was, except that lossy data that arrived
// unmarked (JPEG baseline/extended, JPEG-LS with NEAR > 0) gets "01" with ratio and method.
// No-op for a native `source` or a data set without Pixel Data.
// kCorruption for undecodable pixel data; kInvalidArgument for image attributes that do not
// describe it.
Status DecodePixelData(DcmDataset& dataset, const SyntaxInfo& source);

// Replaces native Pixel Data by `target`'s encoding, one fragment per frame after a Basic
// Offset Table. Requires target.can_encode and target.encapsulated(). Returns
// NotCompressible(...) for: no (integer) Pixel Data, Lossy Image Compression already "01",
// samples per pixel other than 1/3, Bits Allocated other than 8/16, High Bit != Bits Stored-1,
// bits set above High Bit, a Photometric Interpretation other than MONOCHROME1/2, PALETTE
// COLOR, RGB, YBR_FULL, or a Pixel Data length that does not match the attributes.
Status EncodePixelData(DcmDataset& dataset, const SyntaxInfo& target, const TranscodeOptions& options);

}  // namespace strata::codec
