// The PA chest radiograph, MONOCHROME1 (phantoms.h).
#include "testdata/phantoms.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "testdata/phantom_fields.h"
#include "testdata/rng.h"

namespace strata::testdata {

using namespace phantom;

double RenderChestRadiographMono1(uint64_t seed, uint32_t patient, uint32_t study,
                                  uint32_t series, uint32_t image, uint32_t rows,
                                  uint32_t cols, uint8_t* out) {
  const Habitus h = MakeHabitus(seed, patient);
  const double ps = 430.0 / std::max(std::max(rows, cols), 1u);  // 43 cm detector
  Rng pose({seed, patient, study, series, image, kXrayPose});
  const double dx = pose.Uniform(-15, 15), dy = pose.Uniform(-15, 15);
  const double x0 = -(cols - 1.0) / 2.0 * ps - dx, y0 = -(rows - 1.0) / 2.0 * ps - dy;
  const size_t n = static_cast<size_t>(rows) * cols;
  std::vector<float> low(n);
  ZField({seed, patient, study, series, kXrayLow}, 6, image, 1, rows, cols, low.data());
  Rng noise({seed, patient, study, series, image, kXrayNoise});
  const double w = 160 * h.size;  // half-width of the trunk
  for (uint32_t r = 0; r < rows; ++r) {
    const double y = y0 + r * ps;  // mm, increasing towards the feet
    for (uint32_t c = 0; c < cols; ++c) {
      const double x = x0 + c * ps;
      const size_t i = static_cast<size_t>(r) * cols + c;
      // Half-width of the silhouette: neck, shoulders, trunk.
      double hw = y < -150 ? 55 * h.size : (y < -110 ? (55 + (y + 150) / 40 * 135) * h.size : w);
      double mu = 0;  // line integral of attenuation, arbitrary units
      if (std::abs(x) < hw) {
        mu += 2.2 * std::sqrt(1 - (x / hw) * (x / hw));  // soft tissue
        for (int side : {-1, 1}) {  // lungs above the diaphragm domes
          const double lx = x - side * 0.47 * w, ly = y + 10;
          const double e = (lx / (0.36 * w)) * (lx / (0.36 * w)) + (ly / 125) * (ly / 125);
          const double dome = 95 - 0.004 * lx * lx;
          if (e < 1 && y < dome) mu -= 1.3 * std::sqrt(1 - e);
        }
        const double hx = x - 0.12 * w, hy = y - 45;  // heart shadow
        const double he = (hx / 75) * (hx / 75) + (hy / 60) * (hy / 60);
        if (he < 1) mu += 0.9 * std::sqrt(1 - he);
        if (std::abs(x) < 18 * h.size) {  // spine with disc spaces
          const bool disc_space = std::fmod(y + 400, 28.0) < 5.0;
          mu += disc_space ? 0.5 : 0.9;
        }
        for (int k = 0; k < 10; ++k) {  // posterior ribs, arcing down and out
          const double ry = -120 + 24 * k + 0.0025 * x * x;
          if (std::abs(x) > 20 && std::abs(x) < 0.85 * w && std::abs(y - ry) < 4.5) mu += 0.35;
        }
        const double cy = -135 + 0.12 * std::abs(x);  // clavicles
        if (std::abs(x) > 15 && std::abs(x) < 135 && std::abs(y - cy) < 6) mu += 0.5;
      }
      mu += 0.08 * low[i];
      const double display = 1.0 - std::exp(-0.75 * std::max(0.0, mu));  // 1 = white (bone)
      // MONOCHROME1: the minimum stored value is displayed white.
      double v = 255.0 * (1.0 - 0.92 * display) - 6 + 2.5 * noise.FastNormal();
      out[i] = static_cast<uint8_t>(Clamp<long>(std::lrint(v), 0, 255));
    }
  }
  return ps;
}

}  // namespace strata::testdata
