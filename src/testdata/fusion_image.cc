// The colour fusion screenshot (phantoms.h): a windowed CT slice with a hot-metal overlay.
#include "testdata/phantoms.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "testdata/phantom_fields.h"
#include "testdata/rng.h"

namespace strata::testdata {

using namespace phantom;

void RenderFusionRgb(uint64_t seed, uint32_t patient, uint32_t study, uint32_t series,
                     uint32_t image, uint32_t rows, uint32_t cols, uint8_t* rgb) {
  CtSeriesParams cp;
  cp.seed = seed;
  cp.patient = patient;
  cp.study = study;
  cp.series = series;
  cp.rows = rows;
  cp.cols = cols;
  cp.slices = 40;
  cp.thickness_mm = 5.0;
  CtPhantom ct(cp);
  const uint32_t slice = (image * 7 + 5) % cp.slices;
  const size_t n = static_cast<size_t>(rows) * cols;
  std::vector<float> hu(n);
  ct.RenderHu(slice, hu.data());

  struct Blob {
    double x, y, sigma, amp;
  };
  Rng r({seed, patient, study, series, image, kFusionBlobs});
  std::vector<Blob> blobs(5);
  for (auto& bl : blobs) {
    bl.x = r.Uniform(-90, 90);
    bl.y = r.Uniform(-70, 70);
    bl.sigma = r.Uniform(8, 25);
    bl.amp = r.Uniform(0.5, 1.0);
  }
  const double ps = ct.pixel_spacing_mm();
  const double x0 = ct.origin_x_mm(), y0 = ct.origin_y_mm();
  const uint32_t bar = cols >= 64 ? std::max<uint32_t>(8, cols / 32) : 0;
  auto hot = [](double v, int ch) {
    return Clamp(3.0 * v - ch, 0.0, 1.0);  // red, then green, then blue saturate
  };
  for (uint32_t rr = 0; rr < rows; ++rr) {
    for (uint32_t c = 0; c < cols; ++c) {
      const size_t i = static_cast<size_t>(rr) * cols + c;
      uint8_t* px = rgb + 3 * i;
      if (bar && c >= cols - bar) {  // colour bar with a 2-pixel black gap
        double v = rows > 1 ? 1.0 - static_cast<double>(rr) / (rows - 1) : 1.0;
        for (int ch = 0; ch < 3; ++ch) {
          px[ch] = c < cols - bar + 2 ? 0 : static_cast<uint8_t>(std::lrint(255 * hot(v, ch)));
        }
        continue;
      }
      const double gray = Clamp((hu[i] + 160.0) / 400.0, 0.0, 1.0) * 255.0;
      double uptake = hu[i] > -500 ? 0.15 : 0.0;
      const double x = x0 + c * ps, y = y0 + rr * ps;
      for (const auto& bl : blobs) {
        double d2 = ((x - bl.x) * (x - bl.x) + (y - bl.y) * (y - bl.y)) / (bl.sigma * bl.sigma);
        if (d2 < 12) uptake += bl.amp * std::exp(-0.5 * d2);
      }
      uptake = Clamp(uptake, 0.0, 1.0);
      const double alpha = uptake > 0.12 ? std::min(0.85, uptake * 1.2) : 0.0;
      for (int ch = 0; ch < 3; ++ch) {
        double v = gray * (1 - alpha) + 255.0 * hot(uptake, ch) * alpha;
        px[ch] = static_cast<uint8_t>(Clamp<long>(std::lrint(v), 0, 255));
      }
    }
  }
}

}  // namespace strata::testdata
