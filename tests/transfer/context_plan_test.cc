#include "transfer/context_plan.h"

#include <gtest/gtest.h>

#include <set>

namespace strata {
namespace {

constexpr const char* kCt = "1.2.840.10008.5.1.4.1.1.2";
constexpr const char* kMr = "1.2.840.10008.5.1.4.1.1.4";
constexpr const char* kExplicit = "1.2.840.10008.1.2.1";
constexpr const char* kImplicit = "1.2.840.10008.1.2";
constexpr const char* kJpegLs = "1.2.840.10008.1.2.4.80";
constexpr const char* kGetStudy = "1.2.840.10008.5.1.4.1.2.2.3";

DicomFileInfo File(const std::string& cls, const std::string& ts, int n) {
  return {"/f/" + std::to_string(n), cls, "1.2.3." + std::to_string(n), ts, 100};
}

TEST(ContextPlan, MixedFilesFitOneAssociationWithOneContextPerCombination) {
  std::vector<DicomFileInfo> files = {File(kCt, kExplicit, 1), File(kCt, kJpegLs, 2), File(kMr, kImplicit, 3),
                                      File(kCt, kExplicit, 4), File(kMr, kImplicit, 5)};
  auto groups = GroupFilesByContexts(files);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].combos.size(), 3u);
  EXPECT_EQ(groups[0].files, (std::vector<size_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(groups[0].bytes, 500u);
  auto ctx = StorageContexts(groups[0].combos);
  ASSERT_EQ(ctx.size(), 3u);
  std::set<std::pair<std::string, std::string>> proposed;
  for (size_t i = 0; i < ctx.size(); ++i) {
    EXPECT_EQ(ctx[i].id, 2 * i + 1);
    ASSERT_EQ(ctx[i].transfer_syntaxes.size(), 1u) << "each file goes in its own syntax, nothing else";
    EXPECT_FALSE(ctx[i].scp_role);
    proposed.insert({ctx[i].abstract_syntax, ctx[i].transfer_syntaxes[0]});
  }
  EXPECT_TRUE(proposed.count({kCt, kJpegLs}));
  EXPECT_TRUE(proposed.count({kCt, kExplicit}));
  EXPECT_TRUE(proposed.count({kMr, kImplicit}));
}

TEST(ContextPlan, TooManyCombinationsAreSplitInto128ContextGroups) {
  std::vector<DicomFileInfo> files;
  for (int i = 0; i < 300; ++i) files.push_back(File("1.2.826.0.1.3680043.10.1337.77." + std::to_string(i), kExplicit, i));
  files.push_back(File("1.2.826.0.1.3680043.10.1337.77.5", kExplicit, 1000));  // same combination as file 5
  auto groups = GroupFilesByContexts(files);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].combos.size(), 128u);
  EXPECT_EQ(groups[1].combos.size(), 128u);
  EXPECT_EQ(groups[2].combos.size(), 44u);
  std::vector<int> seen(files.size(), 0);
  for (const auto& g : groups) {
    std::set<StorageCombo> combos(g.combos.begin(), g.combos.end());
    for (size_t f : g.files) {
      ++seen[f];
      EXPECT_TRUE(combos.count({files[f].sop_class_uid, files[f].transfer_syntax})) << "file " << f;
    }
    auto ctx = StorageContexts(g.combos);
    EXPECT_EQ(ctx.size(), g.combos.size());
    EXPECT_LE(ctx.back().id, 255);
  }
  for (int s : seen) EXPECT_EQ(s, 1);
}

TEST(ContextPlan, SmallerLimitMakesMoreGroups) {
  std::vector<DicomFileInfo> files = {File(kCt, kExplicit, 1), File(kCt, kJpegLs, 2), File(kMr, kImplicit, 3)};
  auto groups = GroupFilesByContexts(files, 2);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].files.size() + groups[1].files.size(), 3u);
  EXPECT_TRUE(GroupFilesByContexts({}).empty());
}

TEST(ContextPlan, RetrieveProposesModelThenStorageAsScp) {
  auto ctx = RetrieveContexts(kGetStudy, {kCt, kMr, kCt});
  ASSERT_FALSE(ctx.empty());
  EXPECT_EQ(ctx[0].abstract_syntax, kGetStudy);
  EXPECT_FALSE(ctx[0].scp_role);
  const size_t per_class = 1 + RetrieveExactSyntaxes().size();
  EXPECT_EQ(ctx.size(), 1 + 2 * per_class);  // duplicates ignored
  std::set<uint8_t> ids;
  std::set<std::pair<std::string, std::string>> offered;
  for (size_t i = 1; i < ctx.size(); ++i) {
    EXPECT_TRUE(ctx[i].scp_role);
    for (const auto& ts : ctx[i].transfer_syntaxes) offered.insert({ctx[i].abstract_syntax, ts});
  }
  for (const auto& c : ctx) EXPECT_TRUE(ids.insert(c.id).second && c.id % 2 == 1);
  for (const char* cls : {kCt, kMr}) {
    EXPECT_TRUE(offered.count({cls, kExplicit}));
    EXPECT_TRUE(offered.count({cls, kImplicit}));
    EXPECT_TRUE(offered.count({cls, kJpegLs}));
  }
}

TEST(ContextPlan, RetrieveNeverExceedsTheLimitAndKeepsNativeForEveryClassFirst) {
  auto ctx = RetrieveContexts(kGetStudy, DefaultRetrieveSopClasses());
  EXPECT_EQ(ctx.size(), kMaxPresentationContexts);
  std::set<std::string> native;
  for (const auto& c : ctx)
    if (c.transfer_syntaxes.size() > 1 && c.scp_role) native.insert(c.abstract_syntax);
  EXPECT_EQ(native.size(), DefaultRetrieveSopClasses().size());
  std::vector<std::string> many;
  for (int i = 0; i < 200; ++i) many.push_back("1.2.826.0.1.3680043.10.1337.78." + std::to_string(i));
  auto capped = RetrieveContexts(kGetStudy, many);
  EXPECT_EQ(capped.size(), kMaxPresentationContexts);
  EXPECT_EQ(capped.back().id, 255);
}

}  // namespace
}  // namespace strata
