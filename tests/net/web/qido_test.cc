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

namespace strata::web {
namespace {

Status ParseStudyKey(const std::string& name, const std::string& value) {
  return ParseQidoParams(std::multimap<std::string, std::string>{{name, value}},
                         QidoScope{QueryLevel::kStudy, "", ""})
      .status();
}

// An impossible date or time, or a malformed range, is a 400 with a reason (PS3.18 8.3.4),
// not an empty match.
TEST(QidoDateTimeTest, InvalidDatesTimesAndRangesAreRefusedWithAReason) {
  for (const char* ok : {"20240229", "20201231", "20200101-20201231", "-20201231", "20200101-", "*", ""})
    EXPECT_TRUE(ParseStudyKey("StudyDate", ok).ok()) << ok;
  for (const char* ok : {"10", "1030", "103059", "103059.123456", "10:30", "0800-1200", "235960"})
    EXPECT_TRUE(ParseStudyKey("StudyTime", ok).ok()) << ok;
  struct Bad {
    const char* name;
    const char* value;
    const char* reason;
  };
  for (const Bad& b : {Bad{"StudyDate", "20201301", "no month 13"}, Bad{"StudyDate", "20230229", "no day 29"},
                       Bad{"StudyDate", "20200431", "no day 31"}, Bad{"StudyDate", "2020", "not a date"},
                       Bad{"StudyDate", "2020010a", "not a date"}, Bad{"StudyDate", "20201231-20200101", "ends before"},
                       Bad{"StudyDate", "-", "at least one end"}, Bad{"StudyDate", "20200101-20200102-20200103", "not a range"},
                       Bad{"00080020", "20200000", "no month 0"}, Bad{"StudyTime", "2500", "not a time"},
                       Bad{"StudyTime", "1061", "not a time"}, Bad{"StudyTime", "103", "not a time"},
                       Bad{"StudyTime", "1030.5", "not a time"}, Bad{"StudyTime", "103000.1234567", "not a time"}}) {
    Status s = ParseStudyKey(b.name, b.value);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << b.name << "=" << b.value;
    EXPECT_NE(s.message().find(b.reason), std::string::npos) << b.value << ": " << s.message();
  }
}

}  // namespace
}  // namespace strata::web
