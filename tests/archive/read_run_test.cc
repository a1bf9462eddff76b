// PackRunLength: which adjacent pack entries one ranged read may cover.
#include "archive/read_run.h"

#include <gtest/gtest.h>

#include <vector>

namespace strata {
namespace {

InstanceRecord Cold(const std::string& pack, uint64_t offset, uint64_t length) {
  InstanceRecord r;
  r.location.tier = Location::Tier::kCold;
  r.location.pack_key = pack;
  r.location.offset = offset;
  r.location.length = length;
  return r;
}

InstanceRecord Hot() {
  InstanceRecord r;
  r.location.tier = Location::Tier::kHot;
  r.location.hot_path = "x.dcm";
  return r;
}

TEST(PackRunLength, AdjacentEntriesOfOnePackFormOneRun) {
  // ZIP local headers (~100 bytes) between the entries.
  std::vector<InstanceRecord> v = {Cold("p", 100, 1000), Cold("p", 1200, 1000), Cold("p", 2300, 1000)};
  EXPECT_EQ(PackRunLength(v), 3u);
}

TEST(PackRunLength, StopsAtAnotherPackAHotRecordAGapOrABackwardStep) {
  EXPECT_EQ(PackRunLength(std::vector<InstanceRecord>{Cold("p", 0, 10), Cold("q", 10, 10)}), 1u);
  EXPECT_EQ(PackRunLength(std::vector<InstanceRecord>{Cold("p", 0, 10), Hot(), Cold("p", 10, 10)}), 1u);
  EXPECT_EQ(PackRunLength(std::vector<InstanceRecord>{Cold("p", 0, 10), Cold("p", 10 + (64 << 10) + 1, 10)}), 1u);
  EXPECT_EQ(PackRunLength(std::vector<InstanceRecord>{Cold("p", 1000, 10), Cold("p", 0, 10)}), 1u);
  // Overlapping entries are not adjacent ones (a catalog error): each alone.
  EXPECT_EQ(PackRunLength(std::vector<InstanceRecord>{Cold("p", 0, 100), Cold("p", 50, 100)}), 1u);
}

TEST(PackRunLength, HonoursTheLimits) {
  std::vector<InstanceRecord> v;
  for (int i = 0; i < 100; ++i) v.push_back(Cold("p", uint64_t(i) * 600'000, 600'000));
  EXPECT_EQ(PackRunLength(v), 3u);  // 2 MB: three 600 kB entries, not four
  RunLimits few;
  few.max_entries = 2;
  EXPECT_EQ(PackRunLength(v, few), 2u);
  std::vector<InstanceRecord> small;
  for (int i = 0; i < 100; ++i) small.push_back(Cold("p", uint64_t(i) * 1000, 1000));
  EXPECT_EQ(PackRunLength(small), 32u);
}

TEST(PackRunLength, AHotRecordOrOneEntryIsARunOfOne) {
  EXPECT_EQ(PackRunLength(std::vector<InstanceRecord>{Hot(), Hot()}), 1u);
  EXPECT_EQ(PackRunLength(std::vector<InstanceRecord>{Cold("p", 0, 5 << 20)}), 1u);  // larger than the cap
  EXPECT_EQ(PackRunLength(std::vector<InstanceRecord>{}), 0u);
}

}  // namespace
}  // namespace strata
