// Encapsulated Pixel Data (PS3.5 A.4): splitting it into frames and building it from frames.
#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

class DcmPixelData;
class DcmPixelSequence;

namespace strata::codec {

// Tells whether a fragment begins a new frame (used when neither an offset table nor a
// one-fragment-per-frame layout says where frames start).
using FrameStartTest = bool (*)(std::string_view fragment);

// True if `fragment` begins with a JPEG 2000 codestream (SOC then SIZ marker) or a JP2 file
// signature box; HTJ2K codestreams begin the same way.
bool IsJ2kFrameStart(std::string_view fragment);

// The `frames` frames of `seq`, each the concatenation of its fragments. Frame boundaries come
// from, in order: the Extended Offset Table (if given), the Basic Offset Table, one fragment
// per frame, and finally `starts_frame` (if given). kCorruption when they cannot be found.
Result<std::vector<std::string>> ExtractFrames(DcmPixelSequence& seq, uint32_t frames,
                                               std::span<const uint64_t> extended_offsets = {},
                                               FrameStartTest starts_frame = nullptr);

// Replaces the value of `pixel_data` with an encapsulated representation in `xfer`: a Basic
// Offset Table listing every frame, then one fragment per frame (odd lengths padded).
Status PutEncapsulatedFrames(DcmPixelData& pixel_data, E_TransferSyntax xfer,
                             const std::vector<std::string>& frames);

}  // namespace strata::codec
