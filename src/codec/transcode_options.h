// What a caller may choose when transcoding. The defaults give lossless results only.
#pragma once

#include <cstdint>

namespace strata::codec {

struct TranscodeOptions {
  // Lossy results are produced only when this is true AND the target syntax has a lossy
  // setting below: JPEG 2000 (1.2.840.10008.1.2.4.91) at `j2k_lossy_ratio`, JPEG-LS
  // near-lossless (1.2.840.10008.1.2.4.81) with `jpegls_near` > 0. The result then carries
  // Lossy Image Compression "01" with ratio and method (PS3.3 C.7.6.1.1.5). Every other
  // target, and these two without allow_lossy, is encoded losslessly.
  bool allow_lossy = false;
  double j2k_lossy_ratio = 10.0;
  uint16_t jpegls_near = 0;
  // JPEG 2000 / HTJ2K: code RGB through the reversible colour transform (better ratio),
  // which makes the Photometric Interpretation YBR_RCT (YBR_ICT if lossy); false keeps RGB.
  bool color_transform = true;
};

}  // namespace strata::codec
