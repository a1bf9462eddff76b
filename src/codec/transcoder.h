// Transcoding whole DICOM Part 10 files in memory between transfer syntaxes.
//
//   codec::Transcoder t;
//   Result<std::string> out = t.Transcode(bytes, std::string(codec::ts::kHtj2kLossless));
//   if (!out.ok() && codec::IsNotCompressible(out.status())) { store as received; log reason }
//
// Lossless unless TranscodeOptions asks for lossy. Every attribute other than the Pixel Data
// and the ones the new encoding dictates (Transfer Syntax UID and the rest of the meta header,
// Photometric Interpretation YBR_RCT<->RGB and Planar Configuration for JPEG 2000, the Extended
// Offset Table, the Lossy Image Compression trio for lossy results) is kept.
// Thread-safe: any number of threads may call any method at once.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codec/pixel_transcode.h"
#include "codec/syntax_table.h"
#include "codec/transcode_options.h"
#include "util/status.h"

namespace strata::codec {

class Transcoder {
 public:
  Transcoder();  // registers the DCMTK codecs (once per process)

  // `part10` re-encoded in `target_transfer_syntax`. Returns the input unchanged when it is
  // already in that syntax. Errors: kInvalidArgument for input that is not Part 10, a syntax
  // outside CanDecode/CanEncode, or (IsNotCompressible) an image that cannot be compressed —
  // including any lossy source (lossy syntax or Lossy Image Compression 01) going to an
  // encapsulated syntax; kCorruption for undecodable pixel data.
  Result<std::string> Transcode(std::string_view part10, const std::string& target_transfer_syntax,
                                const TranscodeOptions& options = {}) const;

  // Whether Transcode can produce / read `syntax` (padding ignored).
  static bool CanEncode(std::string_view syntax);
  static bool CanDecode(std::string_view syntax);

  // The syntax to send a file stored in `stored` to a peer that accepts `acceptable` (a
  // C-GET/C-MOVE peer's proposed presentation contexts, a DICOMweb Accept list), in this
  // order: `stored` itself (no work); Explicit VR LE, then Implicit VR LE (when `stored` can
  // be decoded); then the first of `acceptable` we can encode, provided the stored images are
  // lossless. `stored_is_lossy` defaults to the syntax's nature; for syntaxes that may be
  // either (.4.81, .4.91, .4.203) unknown counts as lossy. kNotFound when nothing fits.
  static Result<std::string> ChooseSyntax(std::string_view stored, const std::vector<std::string>& acceptable,
                                          std::optional<bool> stored_is_lossy = std::nullopt);
};

}  // namespace strata::codec
