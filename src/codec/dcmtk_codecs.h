// DCMTK's codec registry: dcmjpeg (JPEG decode), dcmjpls (JPEG-LS encode and decode) and the
// RLE decoder. Registration is process-wide and first-wins in DCMTK, so every Strata module
// that wants DCMTK to encode or decode pixel data calls RegisterDcmtkCodecs() and never the
// DCMTK registration functions itself: the settings below then hold for the whole process.
//
// Settings: decoding never creates a new SOP Instance UID; JPEG-LS encodes one fragment per
// frame with a Basic Offset Table, raw (stored values as is, the lossless path); colour JPEG
// is converted from YCbCr to RGB when the Photometric Interpretation says YBR (DCMTK default).
#pragma once

namespace strata::codec {

// Registers the codecs on the first call; later calls return at once. Thread-safe.
void RegisterDcmtkCodecs();

}  // namespace strata::codec
