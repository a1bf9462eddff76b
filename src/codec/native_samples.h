// Reading and writing samples of a native (uncompressed, little-endian) frame as the integers
// they stand for, for the JPEG 2000 glue, which works on one component row at a time.
//
// A stored sample occupies bits_allocated bits (8 or 16 here); the value is its low
// bits_stored bits, sign-extended when pixel_representation is 1. Writing puts the value back
// as two's complement in bits_allocated bits, so bits above High Bit come out zero for
// unsigned data and as the sign extension for signed data. CheckStoredBits() tells whether a
// frame already looks like that, i.e. whether a lossless codec will give back its exact bytes.
#pragma once

#include <cstdint>
#include <span>

#include "codec/image_info.h"
#include "util/status.h"

namespace strata::codec {

// Copies row `y` of component `c` of `frame` (laid out per info, either planar configuration)
// into dst[0..columns).
void LoadRow(const ImageInfo& info, const uint8_t* frame, uint32_t c, uint32_t y, int32_t* dst);

// Stores src[0..columns) as row `y` of component `c` of `frame` (laid out per info).
void StoreRow(const ImageInfo& info, const int32_t* src, uint32_t c, uint32_t y, uint8_t* frame);

// Rewrites decoded values in row[0..columns) as the data set reads them: the low bits_stored
// bits, sign-extended per Pixel Representation. JPEG 2000 decoders call it when the codestream
// precision is at most Bits Stored, so a codestream whose signedness disagrees with Pixel
// Representation (some encoders write signed data as unsigned) still yields the stored bits
// the data set describes.
void ReinterpretRow(const ImageInfo& info, int32_t* row);

// OK if every sample of `pixels` (frames * frame_bytes bytes) round-trips through
// LoadRow/StoreRow unchanged; otherwise kInvalidArgument saying where the first stray bit is.
Status CheckStoredBits(const ImageInfo& info, std::span<const uint8_t> pixels);

}  // namespace strata::codec
