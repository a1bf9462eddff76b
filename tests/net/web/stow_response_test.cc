#include "net/web/stow.h"

#include <gtest/gtest.h>

namespace strata::web {
namespace {

StowItem Stored(const std::string& sop, uint16_t warning = 0) {
  StowItem i;
  i.sop_class_uid = "1.2.840.10008.5.1.4.1.1.2";
  i.sop_instance_uid = sop;
  i.study_uid = "1.2";
  i.series_uid = "1.2.3";
  i.warning_reason = warning;
  return i;
}

StowItem Failed(const std::string& sop, Status s) {
  StowItem i;
  i.sop_instance_uid = sop;
  i.status = std::move(s);
  return i;
}

TEST(StowResponseTest, AllStored) {
  auto r = BuildStowResponse({Stored("1.2.3.1"), Stored("1.2.3.2")}, "http://h", "");
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.body["00081190"]["Value"][0], "http://h/dicomweb/studies/1.2");
  ASSERT_EQ(r.body["00081199"]["Value"].size(), 2u);
  const auto& item = r.body["00081199"]["Value"][0];
  EXPECT_EQ(item["00081155"]["Value"][0], "1.2.3.1");
  EXPECT_EQ(item["00081150"]["Value"][0], "1.2.840.10008.5.1.4.1.1.2");
  EXPECT_EQ(item["00081190"]["Value"][0], "http://h/dicomweb/studies/1.2/series/1.2.3/instances/1.2.3.1");
  EXPECT_FALSE(r.body["00081198"].contains("Value"));
  EXPECT_EQ(r.body["00081198"]["vr"], "SQ");
}

TEST(StowResponseTest, WarningsAndPartialFailuresAre202) {
  auto warned = BuildStowResponse({Stored("1.2.3.1", kStowElementsDiscarded)}, "http://h", "1.2");
  EXPECT_EQ(warned.http_status, 202);
  EXPECT_EQ(warned.body["00081199"]["Value"][0]["00081196"]["Value"][0], kStowElementsDiscarded);
  auto partial = BuildStowResponse({Stored("1.2.3.1"), Failed("", Status::InvalidArgument("not DICOM"))}, "http://h", "");
  EXPECT_EQ(partial.http_status, 202);
  EXPECT_EQ(partial.body["00081198"]["Value"][0]["00081197"]["Value"][0], kStowCannotUnderstand);
}

TEST(StowResponseTest, NothingStored) {
  StowItem mismatch = Failed("1.9", Status::InvalidArgument("other study"));
  mismatch.failure_reason = kStowDoesNotMatch;
  auto r = BuildStowResponse({mismatch, Failed("1.8", Status::Conflict("dup"))}, "http://h", "1.2");
  EXPECT_EQ(r.http_status, 409);
  EXPECT_EQ(r.body["00081198"]["Value"][0]["00081197"]["Value"][0], kStowDoesNotMatch);
  EXPECT_EQ(r.body["00081198"]["Value"][1]["00081197"]["Value"][0], kStowDuplicate);
  EXPECT_EQ(r.body["00081190"]["Value"][0], "http://h/dicomweb/studies/1.2");
  auto down = BuildStowResponse({Failed("1.8", Status::Unavailable("store down"))}, "http://h", "");
  EXPECT_EQ(down.http_status, 503);
  EXPECT_EQ(down.body["00081198"]["Value"][0]["00081197"]["Value"][0], kStowOutOfResources);
}

}  // namespace
}  // namespace strata::web
