// Archive::DeleteRejected, the grace period after IOCM rejections: the rejected instances of a
// study go in one delete transaction per pass, recorded as ONE lifecycle event per study (the
// count, the series named), not one per instance; their hot files go with them.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "archive_test_util.h"
#include "temp_archive_test.h"

namespace strata {
namespace {

class RejectedDeleteTest : public TempArchiveTest {
 protected:
  RejectedDeleteTest() : TempArchiveTest("rejected-delete") {}
  void Store(const std::string& study, const std::string& series, const std::string& sop, int seed) {
    auto r = archive_->StoreBytes(testing::MakeInstance(study, series, sop, seed));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
};

TEST_F(RejectedDeleteTest, OneEventPerStudyPerPass) {
  // Study .1: series .1.1 (3 instances) and .1.2 (2); study .2: one series of 2.
  for (int k = 1; k <= 3; ++k) Store("1.2.8.1", "1.2.8.1.1", "1.2.8.1.1." + std::to_string(k), k);
  for (int k = 1; k <= 2; ++k) Store("1.2.8.1", "1.2.8.1.2", "1.2.8.1.2." + std::to_string(k), 10 + k);
  for (int k = 1; k <= 2; ++k) Store("1.2.8.2", "1.2.8.2.1", "1.2.8.2.1." + std::to_string(k), 20 + k);
  const size_t files_before = testing::ListFiles((dir_ / "hot").string()).size();
  ASSERT_EQ(files_before, 7u);
  // Rejected: two of .1.1 and one of .1.2 (study .1), one of study .2.
  std::vector<RejectionRecord> note = {{"1.2.8.1.1.1", "1.2.8.1.1", "1.2.8.1", "113001", "1.2.8.9", 0},
                                       {"1.2.8.1.1.3", "1.2.8.1.1", "1.2.8.1", "113001", "1.2.8.9", 0},
                                       {"1.2.8.1.2.2", "1.2.8.1.2", "1.2.8.1", "113001", "1.2.8.9", 0},
                                       {"1.2.8.2.1.1", "1.2.8.2.1", "1.2.8.2", "113001", "1.2.8.9", 0}};
  ASSERT_EQ(archive_->catalog()->RejectInstances(note, {"reject", "dimse:CT1@10.0.0.7", "113001"}).value(), 4u);

  // A grace period not over yet deletes nothing and records nothing.
  auto none = archive_->DeleteRejected(3600 * 1000, 256, "policy:test");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(*none, 0u);
  ASSERT_EQ(archive_->catalog()->ListLifecycleEvents(100, 0)->total, 2u);  // the two studies' rejections

  auto n = archive_->DeleteRejected(-1, 256, "policy:test");  // every rejection is past a grace of -1 ms
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 4u);
  auto page = archive_->catalog()->ListLifecycleEvents(100, 0);
  ASSERT_TRUE(page.ok());
  std::vector<LifecycleEvent> expired;
  for (const auto& e : page->events)
    if (e.action == "rejected-expired") expired.push_back(e);
  ASSERT_EQ(expired.size(), 2u) << "one event per study, not one per instance";
  std::sort(expired.begin(), expired.end(),
            [](const LifecycleEvent& a, const LifecycleEvent& b) { return a.study_uid < b.study_uid; });
  EXPECT_EQ(expired[0].study_uid, "1.2.8.1");
  EXPECT_EQ(expired[0].instances, 3);
  EXPECT_EQ(expired[0].series_uid, "");  // two series
  EXPECT_EQ(expired[0].sop_uid, "");
  EXPECT_EQ(expired[0].who, "policy:test");
  // Counters: the rejected were counted out at the rejection already (5 - 3 = 2 visible).
  EXPECT_EQ(expired[0].old_values,
            R"({"instances":2,"series":2,"modalities":"OT","series_uids":["1.2.8.1.1","1.2.8.1.2"]})");
  EXPECT_EQ(expired[0].new_values, R"({"instances":2,"series":2,"modalities":"OT","deleted":3})");
  EXPECT_EQ(expired[1].study_uid, "1.2.8.2");
  EXPECT_EQ(expired[1].instances, 1);
  EXPECT_EQ(expired[1].series_uid, "1.2.8.2.1");  // the only series
  EXPECT_EQ(expired[1].sop_uid, "1.2.8.2.1.1");   // the only instance
  EXPECT_EQ(testing::ListFiles((dir_ / "hot").string()).size(), files_before - 4);
  EXPECT_EQ(archive_->catalog()->ListInstances("1.2.8.1", "", "")->size(), 2u);
  EXPECT_TRUE(archive_->catalog()->IsDeleted("1.2.8.1.2.2").value());

  // A second pass finds nothing left: no event.
  EXPECT_EQ(archive_->DeleteRejected(-1, 256, "policy:test").value(), 0u);
  EXPECT_EQ(archive_->catalog()->ListLifecycleEvents(100, 0)->total, page->total);
}

}  // namespace
}  // namespace strata
