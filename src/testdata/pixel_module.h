// The image attributes every generated kind shares, put in one place: the Image Pixel module
// (samples, photometric interpretation, size, bits) and, for the cross-sectional kinds, the
// Image Plane attributes of an axial head-first-supine slice.
#pragma once

#include <cstdint>
#include <string>

#include "testdata/dataset_writer.h"

namespace strata::testdata {

struct PixelFormat {
  uint16_t samples = 1;  // 3 = RGB, interleaved (Planar Configuration 0)
  const char* photometric = "MONOCHROME2";
  uint32_t rows = 0, cols = 0;
  uint16_t bits_allocated = 16, bits_stored = 16;  // High Bit = bits_stored - 1
  uint16_t pixel_representation = 0;               // 1 = signed
};

// Samples per Pixel, Photometric Interpretation, Planar Configuration (colour only), Rows,
// Columns, Bits Allocated / Stored, High Bit and Pixel Representation.
void PutImagePixel(DsWriter& w, const PixelFormat& f);

// Patient Position (HFS), Acquisition Number, Image Position / Orientation (axial), Frame of
// Reference, Slice Location and Pixel Spacing of a slice whose first pixel is at
// (ORIGIN_X, ORIGIN_Y, Z) mm with square pixels of PS mm.
void PutAxialPlane(DsWriter& w, double origin_x, double origin_y, double z, const std::string& frame_of_ref,
                   double ps);

// "PS\PS": a square pixel spacing as a DS pair.
std::string SquareSpacing(double ps);

}  // namespace strata::testdata
