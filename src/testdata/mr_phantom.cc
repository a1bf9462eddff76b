// The head MR phantom (phantoms.h).
#include "testdata/phantoms.h"

#include <algorithm>
#include <cmath>

#include "testdata/phantom_fields.h"
#include "testdata/rng.h"

namespace strata::testdata {

using namespace phantom;

namespace {
struct MrContrast {
  float fat, skull, marrow, csf, gm, wm, vitreous, muscle, noise;
};
constexpr MrContrast kMrContrasts[3] = {
    // T1 SE: fat bright, CSF dark, white matter brighter than grey matter.
    {900, 40, 520, 170, 480, 700, 150, 350, 14},
    // T2 TSE: CSF and vitreous bright, grey above white.
    {650, 30, 380, 1900, 860, 560, 1800, 300, 18},
    // FLAIR: CSF suppressed.
    {700, 30, 420, 90, 780, 600, 80, 300, 16},
};
}  // namespace

MrPhantom::MrPhantom(const MrSeriesParams& p) : p_(p), habitus_(MakeHabitus(p.seed, p.patient)) {
  if (p_.rows == 0) p_.rows = 1;
  if (p_.cols == 0) p_.cols = 1;
  if (p_.slices == 0) p_.slices = 1;
  ps_ = 230.0 / std::max(p_.rows, p_.cols);
  Rng r({p.seed, p.patient, p.study, kMrStudy});
  head_scale_ = std::pow(habitus_.size, 0.3) * r.Uniform(0.95, 1.05);
  dx_ = r.Uniform(-4, 4);
  dy_ = r.Uniform(-6, 6);
}

double MrPhantom::origin_x_mm() const { return -(p_.cols - 1.0) / 2.0 * ps_; }
double MrPhantom::origin_y_mm() const { return -(p_.rows - 1.0) / 2.0 * ps_; }
double MrPhantom::slice_z_mm(uint32_t slice) const {
  // The series always spans vertex to skull base; fewer slices means wider spacing.
  double spacing = std::min(slice_spacing_mm(), 170.0 / p_.slices);
  return 88.0 * head_scale_ - (slice + 0.5) * spacing;
}

void MrPhantom::Render(uint32_t slice, uint16_t max_stored, uint16_t* out) const {
  const uint32_t R = p_.rows, C = p_.cols;
  const size_t n = static_cast<size_t>(R) * C;
  const MrContrast& k = kMrContrasts[((p_.sequence % 3) + 3) % 3];
  const double A = 70 * head_scale_, B = 88 * head_scale_, Cz = 95 * head_scale_;
  const double zc = slice_z_mm(slice);
  const double t = zc / Cz;
  const double s = std::abs(t) < 1 ? std::sqrt(1 - t * t) : 0.0;
  const double a = A * s, b = B * s;

  Scratch& scratch = ThreadScratch();
  float* low = Sized(scratch.low, n);
  float* mid = Sized(scratch.mid, n);
  float* sulci = Sized(scratch.sulci, n);
  std::vector<float>& sig = scratch.signal;
  sig.assign(n, 0.0f);
  ZField({p_.seed, p_.patient, p_.study, kMrLowField}, 5, slice, 8, R, C, low);
  ZField({p_.seed, p_.patient, p_.study, kMrMidField}, 40, slice, 2, R, C, mid);
  ZField({p_.seed, p_.patient, p_.study, kMrSulci}, 56, slice, 2, R, C, sulci);

  const double x0 = origin_x_mm() - dx_, y0 = origin_y_mm() - dy_;
  if (a > 2 && b > 2) {
    const double scale = std::sqrt(a * b);
    for (uint32_t r = 0; r < R; ++r) {
      const double y = y0 + r * ps_;
      for (uint32_t c = 0; c < C; ++c) {
        const double x = x0 + c * ps_;
        const double rho = std::sqrt((x / a) * (x / a) + (y / b) * (y / b));
        if (rho >= 1) continue;
        const size_t i = static_cast<size_t>(r) * C + c;
        const double d = (1 - rho) * scale;  // approximate depth below the scalp surface, mm
        float v;
        if (d < 5) {
          v = k.fat * (0.9f + 0.1f * mid[i]);
        } else if (d < 12) {
          v = (d > 7.5 && d < 9.5) ? k.marrow : k.skull;  // diploe between two tables
        } else if (d < 14.5) {
          v = k.csf;
        } else {
          const double cortex = 4.0 + 2.5 * mid[i];
          if (d - 14.5 < cortex) {
            v = std::abs(sulci[i]) < 0.12f ? k.csf : k.gm;
          } else {
            v = k.wm;
          }
        }
        sig[i] = v;
      }
    }
    Canvas cv{R, C, ps_, x0, y0, sig.data(), nullptr};
    // Lateral ventricles and deep grey matter in the middle of the brain.
    double vent = std::max(0.0, 1 - std::abs(t - 0.12) / 0.3);
    if (vent > 0) {
      for (int side : {-1, 1}) {
        cv.Fill(side * 28 * s, 5, 9 * s, 14 * s, 0, k.gm);  // thalamus / basal ganglia
        cv.Fill(side * (6 + 3 * vent), -8, 5 * vent + 0.5, 26 * vent + 0.5, 0, k.csf);
      }
    }
    if (t < -0.3) {
      for (int side : {-1, 1}) {  // orbits: fat around the globe, vitreous, lens
        cv.Fill(side * 30 * s, -(b - 20), 17, 15, 0, k.fat);
        cv.Fill(side * 30 * s, -(b - 22), 11, 11, 0, k.vitreous);
        cv.Fill(side * 30 * s, -(b - 13), 4, 2, 0, k.muscle);
      }
      cv.Fill(0, -(b - 18), 10, 7, 0, 0.0f);  // sinus air
      // Cerebellum: folia as fine grey/white alternation in the posterior fossa.
      cv.Ellipse(0, b * 0.45, a * 0.6, b * 0.35, 0, [&](size_t i, double, double) {
        sig[i] = sulci[i] > 0.3f ? k.wm : k.gm;
      });
    }
  }

  // Coil sensitivity, then Rician noise (magnitude of complex Gaussian noise).
  Rng rng({p_.seed, p_.patient, p_.study, p_.series, kMrNoise, slice});
  const float sigma = k.noise;
  for (size_t i = 0; i < n; ++i) {
    float v = sig[i] * (1.0f + 0.12f * low[i]);
    float re = v + sigma * rng.FastNormal();
    float im = sigma * rng.FastNormal();
    float m = std::sqrt(re * re + im * im);
    out[i] = static_cast<uint16_t>(Clamp<long>(std::lrint(m), 0, max_stored));
  }
}

}  // namespace strata::testdata
