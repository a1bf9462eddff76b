// Synthetic DICOM images for the codec tests and the benchmark (not part of strata_codec):
// any pixel layout the codecs must handle, filled with a chosen pattern from a seeded PRNG,
// so every run sees the same pixels.
#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <cstdint>
#include <memory>
#include <string>

#include "util/status.h"

namespace strata::codec {

enum class Pattern {
  kRandom,  // uniform over the full Bits Stored range: incompressible, hits every extreme
  kSmooth,  // gradients plus mild noise: compresses well
  kCt,      // CT-like slice: air, a water ellipse, bone, noise of ~12 HU (12-bit unsigned typical)
};

struct SyntheticSpec {
  uint32_t rows = 64;
  uint32_t columns = 64;
  uint32_t frames = 1;
  uint32_t samples_per_pixel = 1;
  uint32_t bits_allocated = 16;
  uint32_t bits_stored = 16;
  bool is_signed = false;
  std::string photometric = "MONOCHROME2";
  uint32_t planar_configuration = 0;
  Pattern pattern = Pattern::kSmooth;
  uint64_t seed = 1;
  uint32_t slice = 0;  // kCt: position in a stack (the anatomy drifts slowly with it)
};

// A complete Explicit VR Little Endian file (secondary capture, or CT image storage for kCt),
// with native Pixel Data laid out per `spec`.
std::unique_ptr<DcmFileFormat> MakeSyntheticImage(const SyntheticSpec& spec);

// The same, serialized as a Part 10 file.
Result<std::string> MakeSyntheticPart10(const SyntheticSpec& spec);

}  // namespace strata::codec
