#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "model/uid.h"
#include "testdata/rng.h"
#include "testdata/uid_scheme.h"

namespace strata::testdata {
namespace {

TEST(Rng, SameKeySameSequenceDifferentKeyDifferent) {
  Rng a({1, 2, 3}), b({1, 2, 3}), c({1, 2, 4}), d({3, 2, 1});
  int differ_c = 0, differ_d = 0;
  for (int i = 0; i < 100; ++i) {
    uint64_t va = a.Next();
    EXPECT_EQ(va, b.Next());
    differ_c += va != c.Next();
    differ_d += va != d.Next();
  }
  EXPECT_EQ(differ_c, 100);
  EXPECT_EQ(differ_d, 100);  // order of the key matters
  EXPECT_NE(HashKey({1, 2}), HashKey({2, 1}));
  EXPECT_NE(HashBytes("a/b.dcm"), HashBytes("a/c.dcm"));
}

TEST(Rng, DistributionsHaveTheDocumentedMoments) {
  Rng r({42});
  const int n = 400000;
  double sum = 0, sum2 = 0, usum = 0, nsum = 0, nsum2 = 0;
  double umin = 1, umax = 0;
  for (int i = 0; i < n; ++i) {
    double g = r.FastNormal();
    sum += g;
    sum2 += g * g;
    double u = r.Uniform();
    umin = std::min(umin, u);
    umax = std::max(umax, u);
    usum += u;
    double z = r.Normal();
    nsum += z;
    nsum2 += z * z;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sum2 / n, 1.0, 0.02);
  EXPECT_NEAR(nsum / n, 0.0, 0.01);
  EXPECT_NEAR(nsum2 / n, 1.0, 0.02);
  EXPECT_NEAR(usum / n, 0.5, 0.005);
  EXPECT_GE(umin, 0.0);
  EXPECT_LT(umax, 1.0);
  for (int i = 0; i < 1000; ++i) {
    int64_t v = r.Int(-3, 3);
    EXPECT_GE(v, -3);
    EXPECT_LE(v, 3);
  }
}

TEST(UidScheme, MakesValidUidsAndRejectsTooLongOnes) {
  auto u = MakeUid(kDefaultUidRoot, {13, 0, 1, 1, 1, 360});
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(*u, std::string(kDefaultUidRoot) + ".13.0.1.1.1.360");
  EXPECT_TRUE(ValidateUid(*u).ok());
  auto too_long = MakeUid(kDefaultUidRoot, {UINT64_MAX, UINT64_MAX});
  EXPECT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.status().code(), Status::Code::kInvalidArgument);
}

TEST(UidScheme, ValidatesRoots) {
  EXPECT_TRUE(ValidateUidRoot(kDefaultUidRoot).ok());
  EXPECT_FALSE(ValidateUidRoot("1.2.03").ok());   // leading zero
  EXPECT_FALSE(ValidateUidRoot("1.2..3").ok());   // empty component
  EXPECT_FALSE(ValidateUidRoot("1.2.3.").ok());   // trailing dot
  EXPECT_FALSE(ValidateUidRoot("1.2.abc").ok());
  EXPECT_FALSE(ValidateUidRoot("1.2.3456789.3456789.3456789.3456789.3456789").ok());  // > 40
}

}  // namespace
}  // namespace strata::testdata
