// Does a data set's Pixel Data fit the transfer syntax it is labelled with? A peer may send
// native or JPEG-LS pixels under an RLE presentation context; stored as received, such an
// image fails to decode on every later read. This check refuses it before success is answered.
#pragma once

#include <string>

#include "dicom/dataset_scan.h"
#include "util/status.h"

namespace strata {

// Native syntaxes need native Pixel Data; encapsulated ones need encapsulated Pixel Data
// whose first fragment looks like the syntax: JPEG family an SOI (FFD8) and, for JPEG-LS, an
// SOF55 (FFF7) as frame header; JPEG 2000 / HTJ2K a codestream (FF4F FF51) or a JP2 signature
// box; RLE a 64-byte header with 1..15 segments and consistent offsets. A data set without
// Pixel Data fits any syntax. InvalidArgument naming the mismatch otherwise.
Status CheckPixelEncoding(const std::string& transfer_syntax, const PixelDataInfo& pixel);

}  // namespace strata
