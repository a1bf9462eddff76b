#include "net/web/qido.h"

#include <gtest/gtest.h>

namespace strata::web {
namespace {

using Params = std::multimap<std::string, std::string>;

std::string KeyValue(const QidoRequest& q, Tag tag) {
  for (const auto& [t, v] : q.query.keys)
    if (t == tag) return v;
  return "<absent>";
}

TEST(QidoTest, KeywordsAndTagsBecomeKeys) {
  auto q = ParseQidoParams(Params{{"PatientName", "Doe*"}, {"00080020", "20240101-20240131"}, {"limit", "10"},
                                  {"offset", "20"}},
                           QidoScope{QueryLevel::kStudy, "", ""});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(KeyValue(*q, tags::kPatientName), "Doe*");
  EXPECT_EQ(KeyValue(*q, tags::kStudyDate), "20240101-20240131");
  EXPECT_EQ(q->query.limit, 11u);  // one more than asked, to tell whether there are more
  EXPECT_EQ(q->query.offset, 20u);
  EXPECT_EQ(q->requested_limit, 10u);
  EXPECT_TRUE(q->warnings.empty());
  // Defaults of the study level are returned.
  EXPECT_TRUE(q->return_tags.count(tags::kNumberOfStudyRelatedInstances));
  EXPECT_TRUE(q->return_tags.count(tags::kModalitiesInStudy));
  EXPECT_FALSE(q->return_tags.count(tags::kSeriesInstanceUID));
}

TEST(QidoTest, UidListsAcceptCommas) {
  auto q = ParseQidoParams(Params{{"StudyInstanceUID", "1.2.3,1.2.4"}}, QidoScope{QueryLevel::kStudy, "", ""});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(KeyValue(*q, tags::kStudyInstanceUID), "1.2.3\\1.2.4");
}

TEST(QidoTest, ScopeAddsKeysAndIsValidated) {
  auto q = ParseQidoParams(Params{}, QidoScope{QueryLevel::kInstance, "1.2.3", "1.2.3.4"});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(KeyValue(*q, tags::kStudyInstanceUID), "1.2.3");
  EXPECT_EQ(KeyValue(*q, tags::kSeriesInstanceUID), "1.2.3.4");
  EXPECT_TRUE(q->return_tags.count(tags::kSOPInstanceUID));
  EXPECT_FALSE(q->return_tags.count(tags::kPatientName));  // scoped: no study defaults
  EXPECT_EQ(ParseQidoParams(Params{}, QidoScope{QueryLevel::kSeries, "1.02.3", ""}).status().code(),
            Status::Code::kInvalidArgument);
}

TEST(QidoTest, UnscopedLowerLevelsReturnParentDefaults) {
  auto q = ParseQidoParams(Params{}, QidoScope{QueryLevel::kInstance, "", ""});
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(q->return_tags.count(tags::kPatientName));
  EXPECT_TRUE(q->return_tags.count(tags::kModality));
}

TEST(QidoTest, IncludeField) {
  auto q = ParseQidoParams(Params{{"includefield", "StudyDescription,00081030"}, {"includefield", "PatientAge"}},
                           QidoScope{QueryLevel::kStudy, "", ""});
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(q->return_tags.count(tags::kStudyDescription));
  ASSERT_EQ(q->warnings.size(), 1u);  // PatientAge is DICOM but not indexed
  EXPECT_NE(q->warnings[0].find("PatientAge"), std::string::npos);
  auto all = ParseQidoParams(Params{{"includefield", "all"}}, QidoScope{QueryLevel::kSeries, "1.2", ""});
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->return_tags.count(tags::kBodyPartExamined));
  EXPECT_TRUE(all->return_tags.count(tags::kPatientName));
  EXPECT_FALSE(all->return_tags.count(tags::kSOPInstanceUID));
  EXPECT_FALSE(all->return_tags.count(tags::kNumberOfPatientRelatedStudies));
}

TEST(QidoTest, UnknownAndIgnoredParameters) {
  EXPECT_EQ(ParseQidoParams(Params{{"NoSuchKeyword", "x"}}, QidoScope{}).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(ParseQidoParams(Params{{"includefield", "Bogus"}}, QidoScope{}).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(ParseQidoParams(Params{{"limit", "-1"}}, QidoScope{}).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(ParseQidoParams(Params{{"fuzzymatching", "maybe"}}, QidoScope{}).status().code(),
            Status::Code::kInvalidArgument);
  auto q = ParseQidoParams(Params{{"fuzzymatching", "true"}, {"SOPInstanceUID", "1.2"}, {"PatientAge", "040Y"}},
                           QidoScope{QueryLevel::kStudy, "", ""});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->warnings.size(), 2u);  // fuzzy matching; SOPInstanceUID below the level + PatientAge
  EXPECT_EQ(KeyValue(*q, tags::kSOPInstanceUID), "<absent>");
}

TEST(QidoTest, LimitIsCapped) {
  auto q = ParseQidoParams(Params{{"limit", "999999"}}, QidoScope{});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->query.limit, kQidoMaxResults + 1);
  auto none = ParseQidoParams(Params{}, QidoScope{});
  EXPECT_EQ(none->query.limit, kQidoMaxResults + 1);
}

}  // namespace
}  // namespace strata::web
