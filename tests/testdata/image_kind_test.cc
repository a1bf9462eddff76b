// The image-kind table behind StudyGenerator: one entry per kind, names that parse back, and
// an out-of-range kind refused with a clear error instead of a default.
#include "testdata/image_kind.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace strata::testdata {
namespace {

TEST(ImageKindTable, OneEntryPerKindInOrder) {
  std::set<std::string> names;
  int expected = 1;
  for (const ImageKindInfo& info : AllImageKinds()) {
    EXPECT_EQ(static_cast<int>(info.kind), expected++);
    EXPECT_EQ(FindImageKind(info.kind), &info);
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_NE(info.build, nullptr) << info.name;
    auto parsed = ParseImageKind(info.name);
    ASSERT_TRUE(parsed.ok()) << info.name;
    EXPECT_EQ(*parsed, info.kind);
    EXPECT_STREQ(ImageKindName(info.kind), info.name);
  }
  EXPECT_EQ(AllImageKinds().size(), 5u);
  EXPECT_STREQ(KindInfo(ImageKind::kMono1).modality, "CR");
  EXPECT_STREQ(KindInfo(ImageKind::kMultiFrame).sop_class, "1.2.840.10008.5.1.4.1.1.7.3");
}

TEST(ImageKindTable, UnknownKindsAreRefused) {
  EXPECT_EQ(FindImageKind(static_cast<ImageKind>(9)), nullptr);
  EXPECT_STREQ(ImageKindName(static_cast<ImageKind>(0)), "?");
  EXPECT_FALSE(ParseImageKind("pet").ok());
  GeneratorOptions o;
  o.kind = static_cast<ImageKind>(6);
  auto g = StudyGenerator::Create(o);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace strata::testdata
