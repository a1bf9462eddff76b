// Building blocks the phantoms (phantoms.h) share: the random-stream tags, per-thread scratch
// images, smooth random fields, correlated noise and an ellipse painter. Internal to
// strata_testdata. Like the phantoms, every function is a pure function of its arguments.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace strata::testdata::phantom {

inline constexpr double kPi = 3.14159265358979323846;

// Domain tags keep the random streams of different purposes apart.
enum Stream : uint64_t {
  kHabitusStream = 1,
  kStudyStream = 2,
  kLowField = 3,
  kMidField = 4,
  kCtNoise = 5,
  kMrStudy = 20,
  kMrLowField = 21,
  kMrMidField = 22,
  kMrSulci = 23,
  kMrNoise = 24,
  kFusionBlobs = 30,
  kXrayPose = 40,
  kXrayLow = 41,
  kXrayNoise = 42,
};

template <typename T>
T Clamp(T v, T lo, T hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

// Per-thread scratch images, reused from slice to slice: a 512x512 CT slice needs several
// megabytes of temporaries, and fresh allocations of that size cost a page fault per 4 KiB.
// Each function below uses its own members, so nested calls never share a buffer.
struct Scratch {
  std::vector<float> low, mid, sulci, signal;  // fields and signal of one slice
  std::vector<float> noise_w, noise_h;         // AddCorrelatedNoise
  std::vector<float> hu;                       // RenderStored*
  std::vector<uint8_t> region;
};
// The calling thread's scratch images.
Scratch& ThreadScratch();
// Resizes V to N elements; the contents are unspecified (callers overwrite every element).
template <typename T>
T* Sized(std::vector<T>& v, size_t n) {
  if (v.size() != n) v.resize(n);
  return v.data();
}

// A smooth random field of unit variance that changes coherently along a series: random
// GxG grids at knots every STEP images, linearly blended in between, then upsampled.
void ZField(std::initializer_list<uint64_t> key, uint32_t g, uint32_t index, uint32_t step,
            uint32_t rows, uint32_t cols, float* out);

// Adds noise with a [1 2 1]x[1 2 1]/16 correlation (like a CT reconstruction kernel) and
// standard deviation SIGMA.
void AddCorrelatedNoise(uint64_t key, uint32_t rows, uint32_t cols, float sigma, float* img);

// Paints ellipses over an image whose pixel (r, c) sits at (x0 + c*ps, y0 + r*ps) mm.
struct Canvas {
  uint32_t rows, cols;
  double ps, x0, y0;
  float* img;
  const uint8_t* region;  // may be null

  // Calls F(index, x, y) for every pixel inside the ellipse whose region is >= MIN_REGION.
  template <typename F>
  void Ellipse(double cx, double cy, double rx, double ry, uint8_t min_region, F f) const {
    if (rx <= 0 || ry <= 0) return;
    int c0 = std::max(0, static_cast<int>(std::ceil((cx - rx - x0) / ps)));
    int c1 = std::min(static_cast<int>(cols) - 1, static_cast<int>(std::floor((cx + rx - x0) / ps)));
    int r0 = std::max(0, static_cast<int>(std::ceil((cy - ry - y0) / ps)));
    int r1 = std::min(static_cast<int>(rows) - 1, static_cast<int>(std::floor((cy + ry - y0) / ps)));
    for (int r = r0; r <= r1; ++r) {
      double y = y0 + r * ps;
      double ny = (y - cy) / ry;
      double ny2 = ny * ny;
      if (ny2 >= 1) continue;
      size_t row = static_cast<size_t>(r) * cols;
      for (int c = c0; c <= c1; ++c) {
        double x = x0 + c * ps;
        double nx = (x - cx) / rx;
        if (nx * nx + ny2 >= 1) continue;
        size_t i = row + c;
        if (region && region[i] < min_region) continue;
        f(i, x, y);
      }
    }
  }
  void Fill(double cx, double cy, double rx, double ry, uint8_t min_region, float v) const {
    Ellipse(cx, cy, rx, ry, min_region, [&](size_t i, double, double) { img[i] = v; });
  }
};

}  // namespace strata::testdata::phantom
