// The chest-abdomen-pelvis CT phantom (phantoms.h).
#include "testdata/phantoms.h"

#include <algorithm>
#include <cmath>

#include "testdata/phantom_fields.h"
#include "testdata/rng.h"

namespace strata::testdata {

using namespace phantom;

namespace {

// Body regions of the CT base pass, ordered outside-in so "inside the muscle wall" is >= 4.
enum Region : uint8_t { kAir = 0, kSkin = 1, kFat = 2, kMuscle = 3, kInner = 4 };

}  // namespace

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

}  // namespace strata::testdata
