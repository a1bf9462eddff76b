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
  // PatientAge has no column: it comes from the catalog's header copy, no warning.
  EXPECT_TRUE(q->warnings.empty());
  EXPECT_TRUE(q->header_tags.count(MakeTag(0x0010, 0x1010)));
  EXPECT_TRUE(q->query.with_header);
  EXPECT_FALSE(q->whole_header);
  auto all = ParseQidoParams(Params{{"includefield", "all"}}, QidoScope{QueryLevel::kSeries, "1.2", ""});
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->return_tags.count(tags::kBodyPartExamined));
  EXPECT_TRUE(all->return_tags.count(tags::kPatientName));
  EXPECT_FALSE(all->return_tags.count(tags::kSOPInstanceUID));
  EXPECT_FALSE(all->return_tags.count(tags::kNumberOfPatientRelatedStudies));
  EXPECT_FALSE(all->whole_header);  // series level: the catalog's columns only
  auto inst = ParseQidoParams(Params{{"includefield", "all"}}, QidoScope{QueryLevel::kInstance, "1.2", ""});
  ASSERT_TRUE(inst.ok());
  EXPECT_TRUE(inst->whole_header && inst->query.with_header);
}

// PS3.18 Tables 10.6.3-3/-4/-5: the defaults of each level.
TEST(QidoTest, DefaultAttributesOfEachLevel) {
  auto st = ParseQidoParams(Params{}, QidoScope{QueryLevel::kStudy, "", ""});
  ASSERT_TRUE(st.ok());
  for (Tag t : {tags::kStudyDate, tags::kStudyTime, tags::kAccessionNumber, tags::kModalitiesInStudy,
                tags::kReferringPhysicianName, tags::kTimezoneOffsetFromUTC, tags::kPatientName, tags::kPatientID,
                tags::kPatientBirthDate, tags::kPatientSex, tags::kStudyInstanceUID, tags::kStudyID,
                tags::kNumberOfStudyRelatedSeries, tags::kNumberOfStudyRelatedInstances})
    EXPECT_TRUE(st->return_tags.count(t)) << std::hex << t;
  auto se = ParseQidoParams(Params{}, QidoScope{QueryLevel::kSeries, "1.2", ""});
  ASSERT_TRUE(se.ok());
  for (Tag t : {tags::kModality, tags::kTimezoneOffsetFromUTC, tags::kSeriesDescription, tags::kSeriesInstanceUID,
                tags::kSeriesNumber, tags::kNumberOfSeriesRelatedInstances, tags::kPerformedProcedureStepStartDate,
                tags::kPerformedProcedureStepStartTime, tags::kRequestAttributesSequence})
    EXPECT_TRUE(se->return_tags.count(t)) << std::hex << t;
  auto in = ParseQidoParams(Params{}, QidoScope{QueryLevel::kInstance, "1.2", "1.2.3"});
  ASSERT_TRUE(in.ok());
  for (Tag t : {tags::kSOPClassUID, tags::kSOPInstanceUID, tags::kTimezoneOffsetFromUTC, tags::kInstanceNumber,
                tags::kRows, tags::kColumns, tags::kBitsAllocated, tags::kNumberOfFrames})
    EXPECT_TRUE(in->return_tags.count(t)) << std::hex << t;
  EXPECT_FALSE(in->query.with_header);  // no header read unless asked
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
