#include "codec/synthetic_image.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "codec/part10_io.h"
#include "codec/syntax_table.h"

namespace strata::codec {
namespace {

struct Range {
  int64_t lo, hi;
};

Range ValueRange(const SyntheticSpec& s) {
  if (s.is_signed) return {-(int64_t{1} << (s.bits_stored - 1)), (int64_t{1} << (s.bits_stored - 1)) - 1};
  return {0, (int64_t{1} << s.bits_stored) - 1};
}

// Value of sample (c, y, x) of frame f before clamping.
// `shared_noise` is drawn once per pixel: noise in real colour images is mostly common to
// the samples of a pixel (it is in the light, not in the filter).
double PatternValue(const SyntheticSpec& s, std::mt19937_64& rng, uint32_t f, uint32_t c, uint32_t y, uint32_t x,
                    Range r, double shared_noise) {
  const double span = double(r.hi - r.lo);
  switch (s.pattern) {
    case Pattern::kRandom:
      return double(std::uniform_int_distribution<int64_t>(r.lo, r.hi)(rng));
    case Pattern::kSmooth: {
      const double gx = double(x) / std::max<uint32_t>(1, s.columns - 1);
      const double gy = double(y) / std::max<uint32_t>(1, s.rows - 1);
      // A luminance-like wave shared by all samples plus a small per-sample tint, so colour
      // samples correlate as they do in real images.
      const double wave = 0.5 + 0.25 * std::sin(6.0 * gx + 0.3 * f) * std::cos(4.0 * gy);
      const double tint = 0.06 * std::sin(3.0 * gy + 2.0 * c) * (c == 0 ? 0.0 : 1.0);
      return double(r.lo) + span * (0.15 + 0.5 * wave * (0.6 + 0.4 * gx) + tint) +
             shared_noise * std::max(1.0, span / 400.0);
    }
    case Pattern::kCt: {
      // Hounsfield units, stored as HU + 1024 (unsigned) or HU (signed).
      std::normal_distribution<double> noise(0.0, 12.0);
      const double cx = s.columns / 2.0, cy = s.rows / 2.0 + 0.02 * s.rows * std::sin(0.05 * s.slice);
      const double ex = (x - cx) / (0.42 * s.columns), ey = (y - cy) / (0.32 * s.rows);
      double hu = -1000.0;
      const double body = ex * ex + ey * ey;
      if (body < 1.0) {
        hu = 40.0 + 20.0 * std::sin(0.05 * x) * std::cos(0.04 * y);  // soft tissue
        const double lx = std::abs(ex) - 0.45, ly = ey / 0.7;
        if (lx * lx / 0.09 + ly * ly < 1.0) hu = -850.0;  // lungs
        const double bx = ex, by = (ey - 0.55) / 0.3;
        if (bx * bx / 0.02 + by * by < 1.0) hu = 700.0 + 300.0 * (1.0 - bx * bx / 0.02);  // spine
      }
      hu += noise(rng);
      return s.is_signed ? hu : hu + 1024.0;
    }
  }
  return 0;
}

}  // namespace

std::unique_ptr<DcmFileFormat> MakeSyntheticImage(const SyntheticSpec& s) {
  auto file = std::make_unique<DcmFileFormat>();
  DcmDataset* ds = file->getDataset();
  char uid[100];
  const bool ct = s.pattern == Pattern::kCt;
  const char* sop_class = ct ? UID_CTImageStorage : UID_SecondaryCaptureImageStorage;
  if (!ct && s.frames > 1) {
    // Legacy SC is single-frame (GDCM refuses to write multi-frame SC).
    sop_class = s.samples_per_pixel == 3    ? UID_MultiframeTrueColorSecondaryCaptureImageStorage
                : s.bits_allocated == 8     ? UID_MultiframeGrayscaleByteSecondaryCaptureImageStorage
                                            : UID_MultiframeGrayscaleWordSecondaryCaptureImageStorage;
  }
  ds->putAndInsertString(DCM_SOPClassUID, sop_class);
  ds->putAndInsertString(DCM_SOPInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT));
  ds->putAndInsertString(DCM_StudyInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_STUDY_UID_ROOT));
  ds->putAndInsertString(DCM_SeriesInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_SERIES_UID_ROOT));
  ds->putAndInsertString(DCM_Modality, ct ? "CT" : "OT");
  ds->putAndInsertString(DCM_PatientName, "Synthetic^Codec");
  ds->putAndInsertString(DCM_PatientID, "CODEC-TEST");
  ds->putAndInsertString(DCM_InstanceNumber, std::to_string(s.slice + 1).c_str());
  ds->putAndInsertString(DCM_ImageComments, fmt::format("seed {} pattern {}", s.seed, int(s.pattern)).c_str());
  if (ct) {
    ds->putAndInsertString(DCM_RescaleIntercept, s.is_signed ? "0" : "-1024");
    ds->putAndInsertString(DCM_RescaleSlope, "1");
  }
  ds->putAndInsertUint16(DCM_Rows, static_cast<Uint16>(s.rows));
  ds->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(s.columns));
  ds->putAndInsertUint16(DCM_SamplesPerPixel, static_cast<Uint16>(s.samples_per_pixel));
  ds->putAndInsertString(DCM_PhotometricInterpretation, s.photometric.c_str());
  if (s.samples_per_pixel > 1) ds->putAndInsertUint16(DCM_PlanarConfiguration, static_cast<Uint16>(s.planar_configuration));
  ds->putAndInsertUint16(DCM_BitsAllocated, static_cast<Uint16>(s.bits_allocated));
  ds->putAndInsertUint16(DCM_BitsStored, static_cast<Uint16>(s.bits_stored));
  ds->putAndInsertUint16(DCM_HighBit, static_cast<Uint16>(s.bits_stored - 1));
  ds->putAndInsertUint16(DCM_PixelRepresentation, s.is_signed ? 1 : 0);
  if (s.frames > 1) ds->putAndInsertString(DCM_NumberOfFrames, std::to_string(s.frames).c_str());
  if (s.photometric == "PALETTE COLOR") {
    // A grey ramp as the palette; the codecs only carry the indices.
    const uint32_t entries = 1u << std::min<uint32_t>(s.bits_stored, 16);
    const Uint16 desc[3] = {static_cast<Uint16>(entries == 65536 ? 0 : entries), 0, 16};
    std::vector<Uint16> lut(entries);
    for (uint32_t i = 0; i < entries; ++i) lut[i] = static_cast<Uint16>(i * 65535ull / (entries - 1));
    for (auto [d, l] : {std::pair{DCM_RedPaletteColorLookupTableDescriptor, DCM_RedPaletteColorLookupTableData},
                        std::pair{DCM_GreenPaletteColorLookupTableDescriptor, DCM_GreenPaletteColorLookupTableData},
                        std::pair{DCM_BluePaletteColorLookupTableDescriptor, DCM_BluePaletteColorLookupTableData}}) {
      ds->putAndInsertUint16Array(d, desc, 3);
      ds->putAndInsertUint16Array(l, lut.data(), entries);
    }
  }

  const Range r = ValueRange(s);
  const size_t bps = s.bits_allocated / 8;
  const size_t frame_samples = size_t{s.rows} * s.columns * s.samples_per_pixel;
  std::vector<uint8_t> pixels(frame_samples * s.frames * bps);
  std::mt19937_64 rng(s.seed);
  const uint64_t alloc_mask = (uint64_t{1} << s.bits_allocated) - 1;
  for (uint32_t f = 0; f < s.frames; ++f) {
    for (uint32_t y = 0; y < s.rows; ++y) {
      for (uint32_t x = 0; x < s.columns; ++x) {
        const double shared_noise = std::normal_distribution<double>(0.0, 1.0)(rng);
        for (uint32_t c = 0; c < s.samples_per_pixel; ++c) {
          const double v = PatternValue(s, rng, f, c, y, x, r, shared_noise);
          const int64_t iv = std::clamp<int64_t>(std::llround(v), r.lo, r.hi);
          const uint64_t raw = static_cast<uint64_t>(iv) & alloc_mask;
          size_t index = s.planar_configuration == 1 && s.samples_per_pixel > 1
                             ? (size_t{c} * s.rows + y) * s.columns + x
                             : (size_t{y} * s.columns + x) * s.samples_per_pixel + c;
          index += f * frame_samples;
          pixels[index * bps] = static_cast<uint8_t>(raw);
          if (bps == 2) pixels[index * bps + 1] = static_cast<uint8_t>(raw >> 8);
        }
      }
    }
  }
  if (bps == 1) {
    ds->putAndInsertUint8Array(DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size()));
  } else {
    std::vector<Uint16> words(pixels.size() / 2);
    std::memcpy(words.data(), pixels.data(), pixels.size());  // little-endian host
    ds->putAndInsertUint16Array(DCM_PixelData, words.data(), static_cast<unsigned long>(words.size()));
  }
  return file;
}

Result<std::string> MakeSyntheticPart10(const SyntheticSpec& spec) {
  std::unique_ptr<DcmFileFormat> file = MakeSyntheticImage(spec);
  return WritePart10(*file, *FindSyntax(ts::kExplicitLE));
}

}  // namespace strata::codec
