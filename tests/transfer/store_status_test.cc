#include "transfer/store_status.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

TEST(StoreStatus, ClassifiesPs34Statuses) {
  EXPECT_EQ(ClassifyStoreStatus(0x0000), StoreStatusKind::kSuccess);
  for (uint16_t w : {0x0001, 0xB000, 0xB006, 0xB007, 0x0107, 0x0116})
    EXPECT_EQ(ClassifyStoreStatus(w), StoreStatusKind::kWarning) << std::hex << w;
  for (uint16_t f : {0xA700, 0xA7FF, 0xA900, 0xC000, 0xCFFF, 0x0110, 0x0111, 0x0122, 0x0124, 0xFE00})
    EXPECT_EQ(ClassifyStoreStatus(f), StoreStatusKind::kFailure) << std::hex << f;
}

TEST(StoreStatus, DescribesWithHexCode) {
  EXPECT_EQ(DescribeDimseStatus(0xA700), "0xA700 (refused: out of resources)");
  EXPECT_EQ(DescribeDimseStatus(0xC123), "0xC123 (error: cannot understand)");
  EXPECT_EQ(DescribeDimseStatus(0xB007), "0xB007 (warning: data set does not match SOP class)");
}

}  // namespace
}  // namespace strata
