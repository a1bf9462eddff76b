// Pixel access for /frames, /bulkdata and rendering: an instance parsed with DCMTK and, when
// stored in an encapsulated (compressed) syntax, decoded to Explicit VR Little Endian with the
// codec module (DCMTK's JPEG/JPEG-LS/RLE decoders registered once by codec::RegisterDcmtkCodecs,
// JPEG 2000 and HTJ2K by the codec module's own glue).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include "codec/image_info.h"
#include "util/status.h"

namespace strata::web {

struct DecodedInstance {
  std::unique_ptr<DcmFileFormat> file;
  std::string stored_syntax;  // the syntax of the bytes that were decoded
  DcmDataset* dataset() const;
};

// Parses PART10 and (when DECODE_PIXELS) decodes its pixel data to a native syntax when it is
// encapsulated.
Result<DecodedInstance> DecodeInstance(std::string_view part10, bool decode_pixels = true);
// The image attributes of a decoded instance; NotFound when it has no image.
Result<codec::ImageInfo> ImageOf(const DecodedInstance& d);
// The native bytes (little endian) of frame FRAME (1-based). NotFound when out of range.
Result<std::string> FrameBytes(const DecodedInstance& d, uint32_t frame);
// The codestreams of frames FRAMES (1-based) as stored, of an instance parsed with
// DECODE_PIXELS false in an encapsulated syntax; NotFound when a frame is out of range,
// InvalidArgument when the pixel data is not encapsulated.
Result<std::vector<std::string>> StoredFrames(const DecodedInstance& d, const std::vector<uint32_t>& frames);
// The little-endian value of top-level element TAG (Pixel Data included, as native bytes).
Result<std::string> ElementBytes(const DecodedInstance& d, uint32_t tag);

// PART10 re-encoded in TARGET_SYNTAX (unchanged when it already is); thread-safe.
Result<std::string> TranscodePart10(std::string_view part10, const std::string& target_syntax);

}  // namespace strata::web
