// Synthetic image content for generated test data: crude but body-like phantoms whose pixel
// statistics (value ranges, edges, texture, correlated noise) resemble real images closely
// enough that lossless codecs and storage see realistic entropy, not zeros.
//
// Every function here is a pure function of its parameters (seed and position included):
// the same parameters give bit-identical pixels in any order and on any thread.
// Coordinates are patient millimetres: x to the patient's left, y posterior, z superior.
#pragma once

#include <cstdint>
#include <vector>

namespace strata::testdata {

// Per-patient body habitus, shared by all studies and kinds of image of one patient.
struct Habitus {
  double size = 1.0;      // overall scale (0.85..1.15)
  double ap_ratio = 0.7;  // antero-posterior / left-right body diameter
  double fat_mm = 15;     // subcutaneous fat thickness
  double outline[5][2] = {};  // harmonic irregularity of the body outline
  double liver_hu = 60;
  double contrast_hu = 0;  // arterial enhancement in this patient's contrast studies
  double fov_mm = 420;     // CT display field of view
  char sex = 'F';
  int birth_year = 1970, birth_month = 1, birth_day = 1;
};
Habitus MakeHabitus(uint64_t seed, uint32_t patient);

// One axial CT series through chest, abdomen and pelvis.
struct CtSeriesParams {
  uint64_t seed = 1;
  uint32_t patient = 1, study = 1, series = 1;
  uint32_t rows = 512, cols = 512;
  uint32_t slices = 100;     // number of slices covering the chest-abdomen-pelvis range
  double thickness_mm = 1.25;
  double noise_scale = 1.0;  // multiplies the noise standard deviation (kernel, dose)
};

class CtPhantom {
 public:
  explicit CtPhantom(const CtSeriesParams& p);

  // Hounsfield units of slice SLICE (0 = most superior), rows*cols values row-major, before
  // any clipping; pixels outside the reconstruction circle are air.
  void RenderHu(uint32_t slice, float* hu) const;
  // Stored values with RescaleIntercept -1024: round(HU) + 1024 clipped to [0, max_stored];
  // pixels outside the reconstruction circle get PADDING.
  void RenderStored(uint32_t slice, int32_t max_stored, int16_t padding, int16_t* out) const;
  // Unsigned variant for 12-bit unsigned storage (no padding: outside the circle is air).
  void RenderStoredUnsigned(uint32_t slice, uint16_t max_stored, uint16_t* out) const;
  // True if pixel (r, c) is inside the reconstruction circle.
  bool InsideFov(uint32_t r, uint32_t c) const;

  double pixel_spacing_mm() const { return ps_; }
  double fov_mm() const { return habitus_.fov_mm; }
  // x, y of the centre of pixel (0, 0) and the z of a slice (patient coordinates).
  double origin_x_mm() const;
  double origin_y_mm() const;
  double slice_z_mm(uint32_t slice) const;
  const Habitus& habitus() const { return habitus_; }
  const CtSeriesParams& params() const { return p_; }

 private:
  CtSeriesParams p_;
  Habitus habitus_;
  double ps_ = 1;
  double dx_ = 0, dy_ = 0;  // body centre offset from the image centre
  double noise_hu_ = 30;
  double z0_ = 0;
};

// One axial MR series through the head. SEQUENCE picks the contrast:
// 0 = T1 spin echo, 1 = T2 turbo spin echo, 2 = FLAIR (cycled for further series).
struct MrSeriesParams {
  uint64_t seed = 1;
  uint32_t patient = 1, study = 1, series = 1;
  uint32_t rows = 256, cols = 256;
  uint32_t slices = 24;
  int sequence = 0;
};

class MrPhantom {
 public:
  explicit MrPhantom(const MrSeriesParams& p);
  // Magnitude image, unsigned, clipped to [0, MAX_STORED] (4095 for 12 bits stored).
  void Render(uint32_t slice, uint16_t max_stored, uint16_t* out) const;
  double pixel_spacing_mm() const { return ps_; }
  double slice_thickness_mm() const { return 5.0; }
  double slice_spacing_mm() const { return 6.0; }
  double origin_x_mm() const;
  double origin_y_mm() const;
  double slice_z_mm(uint32_t slice) const;

 private:
  MrSeriesParams p_;
  Habitus habitus_;
  double ps_ = 1;
  double head_scale_ = 1;
  double dx_ = 0, dy_ = 0;
};

// A colour "fusion screenshot": a windowed CT slice with a hot-metal uptake overlay and a
// colour bar, RGB interleaved (3 * rows * cols bytes). IMAGE varies the slice.
void RenderFusionRgb(uint64_t seed, uint32_t patient, uint32_t study, uint32_t series,
                     uint32_t image, uint32_t rows, uint32_t cols, uint8_t* rgb);

// A chest radiograph (PA), 8 bits, MONOCHROME1 polarity (high values display dark).
// IMAGE varies positioning slightly. Also returns the pixel spacing used.
double RenderChestRadiographMono1(uint64_t seed, uint32_t patient, uint32_t study,
                                  uint32_t series, uint32_t image, uint32_t rows,
                                  uint32_t cols, uint8_t* out);

}  // namespace strata::testdata
