// Small DICOM files built in memory for the web layer's unit tests.
#pragma once

#include <memory>
#include <string>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>

namespace strata::web::testing {

// A MONOCHROME2 16-bit image data set, ROWS x COLS x FRAMES, pixel (f, r, c) = f*1000 + r*COLS + c,
// with a sequence (undefined length items when written) and WindowCenter/Width.
std::unique_ptr<DcmFileFormat> MakeImage(int rows, int cols, int frames);
// Serializes FILE as Part 10 bytes in XFER (Explicit/Implicit VR LE, Big Endian).
std::string ToPart10(DcmFileFormat& file, E_TransferSyntax xfer, bool undefined_lengths = true);

}  // namespace strata::web::testing
