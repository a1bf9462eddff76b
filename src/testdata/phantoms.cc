#include "testdata/phantoms.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>

#include "testdata/rng.h"

namespace strata::testdata {
namespace {

constexpr double kPi = 3.14159265358979323846;

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
Scratch& ThreadScratch() {
  thread_local Scratch s;
  return s;
}
// Resizes V to N elements; the contents are unspecified (callers overwrite every element).
template <typename T>
T* Sized(std::vector<T>& v, size_t n) {
  if (v.size() != n) v.resize(n);
  return v.data();
}

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

// Body regions of the CT base pass, ordered outside-in so "inside the muscle wall" is >= 4.
enum Region : uint8_t { kAir = 0, kSkin = 1, kFat = 2, kMuscle = 3, kInner = 4 };

}  // namespace

Habitus MakeHabitus(uint64_t seed, uint32_t patient) {
  Rng r({seed, patient, kHabitusStream});
  Habitus h;
  h.size = r.Uniform(0.85, 1.15);
  h.ap_ratio = r.Uniform(0.62, 0.78);
  h.fat_mm = r.Uniform(8.0, 30.0);
  for (auto& o : h.outline) {
    o[0] = 0.025 * r.Normal();
    o[1] = 0.025 * r.Normal();
  }
  h.liver_hu = r.Uniform(50, 70);
  h.contrast_hu = r.Uniform(0, 160);
  static constexpr double kFovs[] = {400.0, 420.0, 440.0, 460.0};
  h.fov_mm = kFovs[r.Int(0, 3)];
  h.sex = r.Chance(0.5) ? 'F' : 'M';
  h.birth_year = static_cast<int>(r.Int(1935, 2000));
  h.birth_month = static_cast<int>(r.Int(1, 12));
  h.birth_day = static_cast<int>(r.Int(1, 28));
  return h;
}

// ---------------------------------------------------------------------------------------------
// CT

CtPhantom::CtPhantom(const CtSeriesParams& p) : p_(p), habitus_(MakeHabitus(p.seed, p.patient)) {
  if (p_.rows == 0) p_.rows = 1;
  if (p_.cols == 0) p_.cols = 1;
  if (p_.slices == 0) p_.slices = 1;
  ps_ = habitus_.fov_mm / std::max(p_.rows, p_.cols);
  Rng r({p.seed, p.patient, p.study, kStudyStream});
  dx_ = r.Uniform(-12, 12);
  dy_ = r.Uniform(-6, 10);
  noise_hu_ = r.Uniform(28.0, 36.0);
  z0_ = r.Uniform(-40, 40);
}

double CtPhantom::origin_x_mm() const { return -(p_.cols - 1.0) / 2.0 * ps_; }
double CtPhantom::origin_y_mm() const { return -(p_.rows - 1.0) / 2.0 * ps_; }
double CtPhantom::slice_z_mm(uint32_t slice) const { return z0_ - slice * p_.thickness_mm; }

bool CtPhantom::InsideFov(uint32_t r, uint32_t c) const {
  double x = origin_x_mm() + c * ps_;
  double y = origin_y_mm() + r * ps_;
  double rad = habitus_.fov_mm / 2 - ps_;
  return x * x + y * y <= rad * rad;
}

void CtPhantom::RenderHu(uint32_t slice, float* img) const {
  const uint32_t R = p_.rows, C = p_.cols;
  const size_t n = static_cast<size_t>(R) * C;
  const Habitus& h = habitus_;
  const double z = (slice + 0.5) / p_.slices;  // 0..1 through chest, abdomen, pelvis
  const double a = h.size * (150 + 25 * std::sin(kPi * std::min(1.0, z * 1.6)) +
                             20 * std::max(0.0, z - 0.7));
  const double b = a * h.ap_ratio;

  Scratch& scratch = ThreadScratch();
  float* low = Sized(scratch.low, n);
  float* mid = Sized(scratch.mid, n);
  ZField({p_.seed, p_.patient, p_.study, kLowField}, 9, slice, 16, R, C, low);
  ZField({p_.seed, p_.patient, p_.study, kMidField}, 48, slice, 4, R, C, mid);

  // Body-centred canvas: pixel (0,0) at (x0, y0) relative to the body centre.
  const double x0 = origin_x_mm() - dx_;
  const double y0 = origin_y_mm() - dy_;
  std::vector<uint8_t>& region = scratch.region;
  region.assign(n, kAir);

  // Base pass: air, skin, fat, muscle wall and inner soft tissue.
  const double fat_r = 1.0 - h.fat_mm / a;
  const double mus_r = fat_r - 12.0 / a;
  const double ia = 1.0 / a, ib = 1.0 / b;
  const double bound_x = a * 1.2, bound_y = b * 1.2;
  for (uint32_t r = 0; r < R; ++r) {
    const double y = y0 + r * ps_;
    float* row = img + static_cast<size_t>(r) * C;
    uint8_t* reg = region.data() + static_cast<size_t>(r) * C;
    const float* lo = low + static_cast<size_t>(r) * C;
    const float* mi = mid + static_cast<size_t>(r) * C;
    if (std::abs(y) >= bound_y) {
      std::fill(row, row + C, -1000.0f);
      continue;
    }
    for (uint32_t c = 0; c < C; ++c) {
      const double x = x0 + c * ps_;
      float v = -1000.0f;
      if (std::abs(x) < bound_x) {
        double rr = std::sqrt(x * x + y * y);
        double wob = 1.0;
        if (rr > 1e-9) {
          // cos(k t), sin(k t) for k = 2..6 by complex powers of (x + iy)/|x + iy|.
          double cs = x / rr, sn = y / rr;
          double cr = cs * cs - sn * sn, ci = 2 * cs * sn;
          for (const auto& o : h.outline) {
            wob += o[0] * cr + o[1] * ci;
            double ncr = cr * cs - ci * sn;
            ci = cr * sn + ci * cs;
            cr = ncr;
          }
        }
        double rho = std::sqrt((x * ia) * (x * ia) + (y * ib) * (y * ib)) / wob;
        if (rho < 1.0) {
          if (rho > 0.985) {
            v = 20.0f;
            reg[c] = kSkin;
          } else if (rho > fat_r) {
            v = -100.0f + 6.0f * mi[c];
            reg[c] = kFat;
          } else if (rho > mus_r) {
            v = 55.0f;
            reg[c] = kMuscle;
          } else {
            v = 40.0f;
            reg[c] = kInner;
          }
          v += 8.0f * lo[c];
        }
      }
      row[c] = v;
    }
  }

  Canvas cv{R, C, ps_, x0, y0, img, region.data()};
  auto fill = [&](double cx, double cy, double rx, double ry, float v) {
    cv.Fill(cx, cy, rx, ry, 0, v);
  };
  auto fill_inner = [&](double cx, double cy, double rx, double ry, float v) {
    cv.Fill(cx, cy, rx, ry, kInner, v);
  };

  // Spine: vertebral body (cortex + cancellous bone) with a disc every ~28 mm, canal and
  // posterior elements.
  const double zmm = slice * p_.thickness_mm + 100.0;
  const bool disc = std::fmod(zmm, 28.0) < 6.0;
  const double vy = b * 0.55;
  const double vr = 16 * h.size;
  fill(0, vy + vr + 22, 20 * h.size, 6, 500.0f);  // posterior elements
  fill(0, vy + vr + 9, 8, 7, 15.0f);              // canal
  if (disc) {
    fill(0, vy, vr, vr * 0.9, 80.0f);
  } else {
    fill(0, vy, vr, vr * 0.9, 900.0f);
    cv.Ellipse(0, vy, vr - 2.5, vr * 0.9 - 2.5, 0,
               [&](size_t i, double, double) { img[i] = 260.0f + 40.0f * low[i]; });
  }

  if (z < 0.42) {  // chest
    const double lw = a * 0.36;
    const double lh = b * 0.62 * std::min(1.0, 0.55 + z * 2.5);
    for (int side : {-1, 1}) {
      cv.Ellipse(side * a * 0.45, b * 0.05, lw, lh, kInner, [&](size_t i, double, double) {
        float vessels = std::max(0.0f, mid[i] - 1.0f);
        img[i] = -860.0f + 40.0f * low[i] + 900.0f * vessels;
      });
    }
    double heart = std::max(0.0, 1 - std::abs(z - 0.3) / 0.14);
    if (heart > 0) {
      fill(a * 0.08, -b * 0.05, 55 * heart + 1, 48 * heart + 1,
           static_cast<float>(45.0 + 0.5 * h.contrast_hu));
    }
    fill(-a * 0.05 + 22, vy - vr - 14, 13, 13, static_cast<float>(40.0 + h.contrast_hu));  // aorta
    for (int k = 0; k < 16; ++k) {  // ribs on the muscle wall, none over spine or sternum
      double ang = (k + 0.5) * 2 * kPi / 16;
      if (std::abs(ang - kPi / 2) < 0.5 || std::abs(ang - 3 * kPi / 2) < 0.25) continue;
      double cx = std::cos(ang) * a * (mus_r + 0.02);
      double cy = std::sin(ang) * b * (mus_r + 0.02);
      fill(cx, cy, 7, 4.5, 700.0f);
      fill(cx, cy, 4.5, 2.5, 220.0f);
    }
    fill(0, -b * (mus_r - 0.03), 12, 5, 450.0f);  // sternum
  } else if (z < 0.76) {  // abdomen
    fill(-22, vy - vr - 12, 11, 11, static_cast<float>(40.0 + 0.6 * h.contrast_hu));  // aorta
    fill(25, vy - vr - 10, 12, 10, static_cast<float>(35.0 + 0.3 * h.contrast_hu));   // IVC
    if (z < 0.6) {
      const float liver = static_cast<float>(h.liver_hu + 0.3 * h.contrast_hu);
      cv.Ellipse(-a * 0.35, -b * 0.05, a * 0.45, b * 0.6, kInner,
                 [&](size_t i, double, double) { img[i] = liver + 10.0f * low[i]; });
      fill_inner(a * 0.5, b * 0.25, a * 0.2, b * 0.3, 50.0f);  // spleen
    }
    if (z > 0.5 && z < 0.7) {
      for (int side : {-1, 1}) {  // kidneys with renal pelvis
        fill(side * a * 0.32, vy - 5, 28, 40, static_cast<float>(35.0 + 0.8 * h.contrast_hu));
        fill(side * a * 0.3, vy - 5, 10, 14, 10.0f);
      }
    }
    cv.Ellipse(0, -b * 0.25, a * 0.7, b * 0.55, kInner, [&](size_t i, double, double) {
      img[i] = mid[i] > 1.6f ? -950.0f : img[i] + 15.0f * mid[i];  // bowel with gas
    });
  } else {  // pelvis
    for (int side : {-1, 1}) {
      fill_inner(side * a * 0.42, vy * 0.5, a * 0.25, b * 0.35, 650.0f);
      fill_inner(side * a * 0.42, vy * 0.5, a * 0.25 - 9, b * 0.35 - 9, 230.0f);
    }
    fill_inner(0, -b * 0.35, a * 0.22, b * 0.25, 8.0f);  // bladder
    cv.Ellipse(0, -b * 0.05, a * 0.5, b * 0.4, kInner, [&](size_t i, double, double) {
      if (mid[i] > 1.8f) img[i] = -950.0f;
    });
  }

  // Patient table below the body: carbon-fibre shell over a foam core (image coordinates).
  {
    const double ix0 = origin_x_mm(), iy0 = origin_y_mm();
    const double ty = b * 1.02 + 12 + dy_;
    for (uint32_t r = 0; r < R; ++r) {
      const double y = iy0 + r * ps_;
      if (y < ty - 3.0 || y > ty + 30.0 + 0.0006 * 210 * 210) continue;
      float* row = img + static_cast<size_t>(r) * C;
      for (uint32_t c = 0; c < C; ++c) {
        const double x = ix0 + c * ps_;
        const double d = y - (ty + 0.0006 * x * x);
        if (std::abs(d) < 3.0 && std::abs(x) < 210) {
          row[c] = 150.0f;
        } else if (d >= 3.0 && d < 30.0 && std::abs(x) < 205) {
          row[c] = -850.0f;
        }
      }
    }
  }

  // Correlated noise, a bit stronger in the wider (more attenuating) slices.
  const float sigma =
      static_cast<float>(noise_hu_ * (0.8 + 0.4 * (a / 175.0)) * p_.noise_scale);
  AddCorrelatedNoise(HashKey({p_.seed, p_.patient, p_.study, p_.series, kCtNoise, slice}), R, C,
                     sigma, img);

  // Outside the reconstruction circle there is no data.
  for (uint32_t r = 0; r < R; ++r) {
    for (uint32_t c = 0; c < C; ++c) {
      if (!InsideFov(r, c)) img[static_cast<size_t>(r) * C + c] = -1024.0f;
    }
  }
}

void CtPhantom::RenderStored(uint32_t slice, int32_t max_stored, int16_t padding,
                             int16_t* out) const {
  const size_t n = static_cast<size_t>(p_.rows) * p_.cols;
  float* hu = Sized(ThreadScratch().hu, n);
  RenderHu(slice, hu);
  for (uint32_t r = 0; r < p_.rows; ++r) {
    for (uint32_t c = 0; c < p_.cols; ++c) {
      size_t i = static_cast<size_t>(r) * p_.cols + c;
      if (!InsideFov(r, c)) {
        out[i] = padding;
        continue;
      }
      int32_t v = static_cast<int32_t>(std::lrint(hu[i])) + 1024;
      out[i] = static_cast<int16_t>(Clamp<int32_t>(v, 0, max_stored));
    }
  }
}

void CtPhantom::RenderStoredUnsigned(uint32_t slice, uint16_t max_stored, uint16_t* out) const {
  const size_t n = static_cast<size_t>(p_.rows) * p_.cols;
  float* hu = Sized(ThreadScratch().hu, n);
  RenderHu(slice, hu);
  for (size_t i = 0; i < n; ++i) {
    int32_t v = static_cast<int32_t>(std::lrint(hu[i])) + 1024;
    out[i] = static_cast<uint16_t>(Clamp<int32_t>(v, 0, max_stored));
  }
}

// ---------------------------------------------------------------------------------------------
// MR (head)

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

// ---------------------------------------------------------------------------------------------
// Colour fusion screenshot

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

// ---------------------------------------------------------------------------------------------
// Chest radiograph, MONOCHROME1

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
