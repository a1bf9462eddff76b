#include "testdata/phantom_fields.h"

#include <algorithm>

#include "testdata/rng.h"

namespace strata::testdata::phantom {
namespace {

// Bilinear upsampling of a small square grid to rows x cols (cell-centre aligned).
struct Axis {
  std::vector<int> i0;
  std::vector<float> w;  // weight of i0 + 1
};

Axis MakeAxis(uint32_t n_out, uint32_t g) {
  Axis a;
  a.i0.resize(n_out);
  a.w.resize(n_out);
  for (uint32_t j = 0; j < n_out; ++j) {
    double pos = (j + 0.5) * g / n_out - 0.5;
    pos = Clamp(pos, 0.0, static_cast<double>(g - 1));
    int i0 = static_cast<int>(std::floor(pos));
    if (i0 > static_cast<int>(g) - 2) i0 = std::max(0, static_cast<int>(g) - 2);
    a.i0[j] = i0;
    a.w[j] = static_cast<float>(pos - i0);
  }
  return a;
}

void Upsample(const std::vector<float>& grid, uint32_t g, uint32_t rows, uint32_t cols,
              float* out) {
  Axis ar = MakeAxis(rows, g);
  Axis ac = MakeAxis(cols, g);
  std::vector<float> line(g);
  for (uint32_t r = 0; r < rows; ++r) {
    const float* g0 = &grid[static_cast<size_t>(ar.i0[r]) * g];
    const float* g1 = g0 + (g > 1 ? g : 0);
    float wr = ar.w[r];
    for (uint32_t k = 0; k < g; ++k) line[k] = g0[k] + wr * (g1[k] - g0[k]);
    float* o = out + static_cast<size_t>(r) * cols;
    for (uint32_t c = 0; c < cols; ++c) {
      int i = ac.i0[c];
      float a0 = line[i];
      float a1 = line[std::min<int>(i + 1, static_cast<int>(g) - 1)];
      o[c] = a0 + ac.w[c] * (a1 - a0);
    }
  }
}

}  // namespace

Scratch& ThreadScratch() {
  thread_local Scratch s;
  return s;
}

// A smooth random field of unit variance that changes coherently along a series: random
// GxG grids at knots every STEP images, linearly blended in between, then upsampled.
void ZField(std::initializer_list<uint64_t> key, uint32_t g, uint32_t index, uint32_t step,
            uint32_t rows, uint32_t cols, float* out) {
  uint32_t k = index / step;
  float t = static_cast<float>(index % step) / static_cast<float>(step);
  uint64_t base = HashKey(key);
  Rng r0(HashKey({base, k}));
  Rng r1(HashKey({base, k + 1}));
  std::vector<float> grid(static_cast<size_t>(g) * g);
  // Blending two independent unit normals with weights (1-t, t) lowers the variance in
  // between knots; renormalise so the texture strength does not pulse along z.
  float norm = 1.0f / std::sqrt((1 - t) * (1 - t) + t * t);
  for (auto& v : grid) {
    float a = static_cast<float>(r0.Normal());
    float b = static_cast<float>(r1.Normal());
    v = ((1 - t) * a + t * b) * norm;
  }
  Upsample(grid, g, rows, cols, out);
}

// Adds noise with a [1 2 1]x[1 2 1]/16 correlation (like a CT reconstruction kernel) and
// standard deviation SIGMA.
void AddCorrelatedNoise(uint64_t key, uint32_t rows, uint32_t cols, float sigma, float* img) {
  const size_t n = static_cast<size_t>(rows) * cols;
  Rng rng(key);
  Scratch& scratch = ThreadScratch();
  float* w = Sized(scratch.noise_w, n);
  for (size_t i = 0; i < n; ++i) w[i] = rng.FastNormal();
  float* h = Sized(scratch.noise_h, n);
  for (uint32_t r = 0; r < rows; ++r) {
    const float* s = &w[static_cast<size_t>(r) * cols];
    float* d = &h[static_cast<size_t>(r) * cols];
    for (uint32_t c = 0; c < cols; ++c) {
      float left = s[c > 0 ? c - 1 : c];
      float right = s[c + 1 < cols ? c + 1 : c];
      d[c] = left + 2 * s[c] + right;
    }
  }
  // The smoothing leaves 0.375 of the white noise's standard deviation (sqrt(6/16)^2).
  const float gain = sigma / (16.0f * 0.375f);
  for (uint32_t r = 0; r < rows; ++r) {
    const float* up = &h[static_cast<size_t>(r > 0 ? r - 1 : r) * cols];
    const float* mid = &h[static_cast<size_t>(r) * cols];
    const float* dn = &h[static_cast<size_t>(r + 1 < rows ? r + 1 : r) * cols];
    float* o = img + static_cast<size_t>(r) * cols;
    for (uint32_t c = 0; c < cols; ++c) o[c] += (up[c] + 2 * mid[c] + dn[c]) * gain;
  }
}

}  // namespace strata::testdata::phantom
