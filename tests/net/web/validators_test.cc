// Entity tags and dates of DICOMweb responses.
#include "net/web/validators.h"

#include <gtest/gtest.h>

namespace strata::web {
namespace {

InstanceRecord Rec(const std::string& sop, const std::string& checksum) {
  InstanceRecord r;
  r.sop_uid = sop;
  r.checksum = checksum;
  r.transfer_syntax = "1.2.840.10008.1.2.1";
  return r;
}

TEST(ValidatorsTest, EtagFollowsInstancesStorageAndVariant) {
  const std::vector<InstanceRecord> a = {Rec("1.2.3", "00ff"), Rec("1.2.4", "0100")};
  const std::string tag = RecordsEtag(a, "metadata|http://h");
  EXPECT_EQ(tag.rfind("W/\"", 0), 0u);
  EXPECT_EQ(tag.size(), 3 + 16 + 1u);
  EXPECT_EQ(RecordsEtag(a, "metadata|http://h"), tag);  // stable
  EXPECT_NE(RecordsEtag(a, "metadata|http://other"), tag);
  EXPECT_NE(RecordsEtag({a[0]}, "metadata|http://h"), tag);  // an instance fewer
  auto moved = a;
  moved[1].location.tier = Location::Tier::kCold;
  moved[1].location.entry_syntax = "1.2.840.10008.1.2.4.80";  // migrated and transcoded
  EXPECT_NE(RecordsEtag(moved, "metadata|http://h"), tag);
  // Fields cannot run into each other.
  EXPECT_NE(RecordsEtag({Rec("1.2.3", "4")}, ""), RecordsEtag({Rec("1.2.34", "")}, ""));
}

TEST(ValidatorsTest, IfNoneMatchUsesWeakComparisonAndLists) {
  const std::string tag = "W/\"0123456789abcdef\"";
  EXPECT_TRUE(EtagMatches(tag, tag));
  EXPECT_TRUE(EtagMatches("\"0123456789abcdef\"", tag));
  EXPECT_TRUE(EtagMatches("\"x\", W/\"0123456789abcdef\" ", tag));
  EXPECT_TRUE(EtagMatches("*", tag));
  EXPECT_FALSE(EtagMatches("\"0123456789abcdee\"", tag));
  EXPECT_FALSE(EtagMatches("", tag));
  EXPECT_FALSE(EtagMatches(" , ", tag));
}

TEST(ValidatorsTest, HttpDateIsImfFixdate) {
  EXPECT_EQ(HttpDate(784111777000), "Sun, 06 Nov 1994 08:49:37 GMT");
}

}  // namespace
}  // namespace strata::web
