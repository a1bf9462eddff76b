#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "testdata/phantoms.h"

namespace strata::testdata {
namespace {

struct Stats {
  double mean = 0, sd = 0;
  float min = 0, max = 0;
};

Stats Compute(const std::vector<float>& v) {
  Stats s;
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  double sum = 0, sum2 = 0;
  for (float x : v) {
    sum += x;
    sum2 += double(x) * x;
  }
  s.mean = sum / v.size();
  s.sd = std::sqrt(std::max(0.0, sum2 / v.size() - s.mean * s.mean));
  return s;
}

double Fraction(const std::vector<float>& v, float lo, float hi) {
  return double(std::count_if(v.begin(), v.end(), [&](float x) { return x >= lo && x < hi; })) /
         v.size();
}

// The part of a 512x512 slice above the patient table, where the body is.
std::vector<float> BodyCrop(const std::vector<float>& hu) {
  std::vector<float> out;
  for (int r = 64; r < 380; ++r)
    for (int c = 64; c < 448; ++c) out.push_back(hu[r * 512 + c]);
  return out;
}

CtSeriesParams Ct512(uint64_t seed = 7, uint32_t slices = 100) {
  CtSeriesParams p;
  p.seed = seed;
  p.slices = slices;
  return p;
}

TEST(CtPhantom, ChestSliceHasCtLikeTissueClasses) {
  CtPhantom ct(Ct512());
  std::vector<float> hu(512 * 512);
  ct.RenderHu(20, hu.data());  // chest
  Stats s = Compute(hu);
  EXPECT_GT(s.sd, 200.0) << "not a constant image";
  EXPECT_GT(Fraction(hu, -1100, -950), 0.25) << "air around the body";
  const std::vector<float> body = BodyCrop(hu);
  EXPECT_GT(Fraction(body, -900, -700), 0.10) << "lungs";
  EXPECT_GT(Fraction(body, -150, -50), 0.03) << "fat";
  EXPECT_GT(Fraction(body, 0, 100), 0.10) << "soft tissue";
  EXPECT_GT(Fraction(body, 600, 3072), 0.002) << "bone";
  EXPECT_GT(s.max, 700.0);
  EXPECT_LT(s.max, 3071.0);
}

TEST(CtPhantom, AbdomenAndPelvisDifferFromChest) {
  CtPhantom ct(Ct512());
  std::vector<float> chest(512 * 512), pelvis(512 * 512);
  ct.RenderHu(20, chest.data());
  ct.RenderHu(90, pelvis.data());
  const std::vector<float> c = BodyCrop(chest), p = BodyCrop(pelvis);
  EXPECT_LT(Fraction(p, -900, -700), Fraction(c, -900, -700) / 10) << "no lungs in the pelvis";
  EXPECT_GT(Fraction(p, 550, 800), 0.005) << "iliac bones";
  EXPECT_GT(Fraction(p, 0, 100), Fraction(c, 0, 100)) << "more soft tissue";
}

TEST(CtPhantom, NoiseIsPresentAndCorrelated) {
  CtPhantom ct(Ct512());
  std::vector<float> hu(512 * 512);
  ct.RenderHu(50, hu.data());
  // A patch of uniform soft tissue near the body centre, avoiding organs: use the spread of
  // horizontal neighbour differences, which removes the smooth anatomy.
  std::vector<float> d1, d3;
  for (int r = 150; r < 350; ++r) {
    for (int c = 150; c < 350; ++c) {
      float a = hu[r * 512 + c], b = hu[r * 512 + c + 1], e = hu[r * 512 + c + 3];
      if (a > -200 && a < 200 && b > -200 && b < 200 && e > -200 && e < 200) {
        d1.push_back(b - a);
        d3.push_back(e - a);
      }
    }
  }
  ASSERT_GT(d1.size(), 1000u);
  Stats s1 = Compute(d1), s3 = Compute(d3);
  EXPECT_GT(s1.sd, 10.0) << "noise present";
  EXPECT_LT(s1.sd, 80.0) << "noise not absurd";
  EXPECT_LT(s1.sd, s3.sd) << "neighbouring pixels are correlated (smoothed noise)";
}

TEST(CtPhantom, AnatomyVariesSmoothlyAlongSlices) {
  CtPhantom ct(Ct512(7, 200));
  auto body_mask = [&](uint32_t slice) {
    std::vector<float> hu(512 * 512);
    ct.RenderHu(slice, hu.data());
    std::vector<uint8_t> m(hu.size());
    for (size_t i = 0; i < hu.size(); ++i) m[i] = hu[i] > -500;
    return m;
  };
  auto differ = [](const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
    size_t n = 0;
    for (size_t i = 0; i < a.size(); ++i) n += a[i] != b[i];
    return double(n) / a.size();
  };
  auto m40 = body_mask(40), m41 = body_mask(41), m150 = body_mask(150);
  EXPECT_LT(differ(m40, m41), 0.02) << "adjacent slices are nearly the same shape";
  EXPECT_GT(differ(m40, m150), 5 * differ(m40, m41)) << "distant slices differ";
}

TEST(CtPhantom, DeterministicAndSeedDependent) {
  std::vector<float> a(512 * 512), b(512 * 512), c(512 * 512);
  CtPhantom(Ct512(3)).RenderHu(10, a.data());
  CtPhantom(Ct512(3)).RenderHu(10, b.data());
  CtPhantom(Ct512(4)).RenderHu(10, c.data());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(CtPhantom, StoredValuesUsePaddingOutsideTheCircle) {
  CtPhantom ct(Ct512());
  std::vector<int16_t> px(512 * 512);
  ct.RenderStored(30, 4095, -2000, px.data());
  EXPECT_EQ(px[0], -2000);  // corner is outside the reconstruction circle
  EXPECT_FALSE(ct.InsideFov(0, 0));
  EXPECT_TRUE(ct.InsideFov(256, 256));
  for (uint32_t r = 0; r < 512; ++r) {
    for (uint32_t c = 0; c < 512; ++c) {
      int16_t v = px[r * 512 + c];
      if (ct.InsideFov(r, c)) {
        ASSERT_GE(v, 0);
        ASSERT_LE(v, 4095);
      } else {
        ASSERT_EQ(v, -2000);
      }
    }
  }
  std::vector<int16_t> p12(512 * 512);
  ct.RenderStored(30, 2047, -2000, p12.data());
  EXPECT_LE(*std::max_element(p12.begin(), p12.end()), 2047);
}

TEST(CtPhantom, OddAndTinySizesWork) {
  for (auto [rows, cols] : {std::pair{3u, 5u}, {1u, 1u}, {257u, 131u}, {131u, 257u}}) {
    CtSeriesParams p = Ct512();
    p.rows = rows;
    p.cols = cols;
    CtPhantom ct(p);
    std::vector<int16_t> px(size_t(rows) * cols);
    ct.RenderStored(20, 4095, -2000, px.data());
    for (int16_t v : px) EXPECT_TRUE(v == -2000 || (v >= 0 && v <= 4095));
  }
}

TEST(MrPhantom, HeadSignalOverRicianBackground) {
  MrSeriesParams p;
  p.seed = 9;
  MrPhantom mr(p);
  std::vector<uint16_t> px(256 * 256);
  mr.Render(12, 4095, px.data());
  double corner = 0, centre = 0;
  for (int r = 0; r < 20; ++r)
    for (int c = 0; c < 20; ++c) corner += px[r * 256 + c];
  for (int r = 118; r < 138; ++r)
    for (int c = 118; c < 138; ++c) centre += px[r * 256 + c];
  corner /= 400;
  centre /= 400;
  EXPECT_GT(corner, 3.0) << "Rician background is positive";
  EXPECT_GT(centre, 10 * corner) << "brain is much brighter than air";
  EXPECT_LE(*std::max_element(px.begin(), px.end()), 4095);
  // T2 inverts CSF contrast: the ventricles become bright.
  MrSeriesParams t2 = p;
  t2.sequence = 1;
  std::vector<uint16_t> px2(256 * 256);
  MrPhantom(t2).Render(12, 4095, px2.data());
  EXPECT_NE(px, px2);
}

TEST(FusionRgb, IsColourAndDeterministic) {
  std::vector<uint8_t> a(3 * 96 * 128), b(a.size());
  RenderFusionRgb(1, 1, 1, 1, 1, 96, 128, a.data());
  RenderFusionRgb(1, 1, 1, 1, 1, 96, 128, b.data());
  EXPECT_EQ(a, b);
  size_t coloured = 0;
  for (size_t i = 0; i < a.size(); i += 3) coloured += a[i] != a[i + 1] || a[i + 1] != a[i + 2];
  EXPECT_GT(coloured, a.size() / 3 / 20) << "some pixels are not grey";
}

TEST(Radiograph, Monochrome1PolarityBoneIsLowAirIsHigh) {
  const uint32_t rows = 425, cols = 345;
  std::vector<uint8_t> px(rows * cols);
  double ps = RenderChestRadiographMono1(1, 1, 1, 1, 1, rows, cols, px.data());
  EXPECT_NEAR(ps, 430.0 / 425, 1e-9);
  double spine = 0, lung = 0, air = 0;
  int n = 0;
  for (uint32_t r = 150; r < 250; ++r, ++n) {
    spine += px[r * cols + cols / 2];
    lung += px[r * cols + cols / 2 + 75];
  }
  int n_air = 0;
  for (uint32_t r = 0; r < 30; ++r, ++n_air) air += px[r * cols];  // beside the neck
  // MONOCHROME1: the lowest value displays white. Bone attenuates most -> lowest values.
  EXPECT_LT(spine / n, lung / n - 20);
  EXPECT_LT(lung / n, air / n_air - 20);
  EXPECT_GT(air / n_air, 200);
}

}  // namespace
}  // namespace strata::testdata
