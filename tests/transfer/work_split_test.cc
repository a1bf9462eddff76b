#include "transfer/work_split.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace strata {
namespace {

SeriesInstances Series(const std::string& uid, int n) {
  SeriesInstances s{uid, {}};
  for (int i = 1; i <= n; ++i) s.sop_uids.push_back(uid + "." + std::to_string(i));
  return s;
}

// Every instance of SERIES is in exactly one unit, in a unit of its own series.
void ExpectPartition(const std::vector<SeriesInstances>& series, const std::vector<RetrieveUnit>& units) {
  std::map<std::string, std::string> series_of;
  for (const auto& s : series)
    for (const auto& sop : s.sop_uids) series_of[sop] = s.series_uid;
  std::multiset<std::string> seen;
  for (const auto& u : units) {
    EXPECT_FALSE(u.sop_uids.empty());
    for (const auto& sop : u.sop_uids) {
      seen.insert(sop);
      EXPECT_EQ(series_of.at(sop), u.series_uid);
    }
  }
  EXPECT_EQ(seen.size(), series_of.size());
  for (const auto& [sop, s] : series_of) EXPECT_EQ(seen.count(sop), 1u) << sop;
}

TEST(WorkSplit, AssociationsGoRoundRobinOverNodes) {
  EXPECT_EQ(AssignNodesRoundRobin(5, 2), (std::vector<size_t>{0, 1, 0, 1, 0}));
  EXPECT_EQ(AssignNodesRoundRobin(4, 5), (std::vector<size_t>{0, 1, 2, 3}));
  EXPECT_EQ(AssignNodesRoundRobin(3, 1), (std::vector<size_t>{0, 0, 0}));
  EXPECT_TRUE(AssignNodesRoundRobin(0, 3).empty());
}

TEST(WorkSplit, OneBigSeriesIsCutIntoInstanceLists) {
  std::vector<SeriesInstances> s = {Series("1.2.3", 360)};
  auto units = SplitRetrieve(s, 4);
  ASSERT_EQ(units.size(), 4u);
  for (const auto& u : units) {
    EXPECT_FALSE(u.whole_series);
    EXPECT_EQ(u.sop_uids.size(), 90u);
  }
  ExpectPartition(s, units);
}

TEST(WorkSplit, UnevenCutsDifferByAtMostOne) {
  std::vector<SeriesInstances> s = {Series("1.2.3", 10)};
  auto units = SplitRetrieve(s, 4);
  ASSERT_EQ(units.size(), 4u);
  for (const auto& u : units) EXPECT_TRUE(u.sop_uids.size() == 2 || u.sop_uids.size() == 3);
  ExpectPartition(s, units);
}

TEST(WorkSplit, EnoughSeriesAreRetrievedWhole) {
  std::vector<SeriesInstances> s = {Series("1.1", 5), Series("1.2", 50), Series("1.3", 20), Series("1.4", 1)};
  auto units = SplitRetrieve(s, 4);
  ASSERT_EQ(units.size(), 4u);
  for (const auto& u : units) EXPECT_TRUE(u.whole_series);
  // Biggest first.
  EXPECT_EQ(units[0].series_uid, "1.2");
  EXPECT_EQ(units[1].series_uid, "1.3");
  EXPECT_EQ(units[3].series_uid, "1.4");
  ExpectPartition(s, units);
}

TEST(WorkSplit, FewSeriesAreCutByTheirShare) {
  std::vector<SeriesInstances> s = {Series("1.1", 300), Series("1.2", 60)};
  auto units = SplitRetrieve(s, 4);
  ExpectPartition(s, units);
  size_t of_big = 0;
  for (const auto& u : units) of_big += u.series_uid == "1.1" ? 1 : 0;
  EXPECT_EQ(of_big, 3u);
  EXPECT_EQ(units.size(), 4u);
}

TEST(WorkSplit, SingleAssociationAndTinySeries) {
  std::vector<SeriesInstances> s = {Series("1.1", 30)};
  auto one = SplitRetrieve(s, 1);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_TRUE(one[0].whole_series);
  std::vector<SeriesInstances> tiny = {Series("1.1", 2), Series("1.2", 0)};
  auto units = SplitRetrieve(tiny, 8);  // never more units than instances, no empty unit
  EXPECT_EQ(units.size(), 2u);
  ExpectPartition(tiny, units);
}

}  // namespace
}  // namespace strata
