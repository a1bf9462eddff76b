// C-FIND identifiers and character sets: the request's keys are decoded to the catalog's
// UTF-8, and the answer is in the requester's character set when every value fits it.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <gtest/gtest.h>

#include <memory>

#include "model/attributes.h"
#include "net/dimse/find_handler.h"

namespace strata {
namespace {

std::string Get(DcmDataset& ds, const DcmTagKey& key) {
  OFString s;
  if (ds.findAndGetOFStringArray(key, s).bad()) return "<absent>";
  return std::string(s.c_str(), s.length());
}

DcmDataset Request(const char* charset, const std::string& name) {
  DcmDataset ds;
  ds.putAndInsertString(DCM_QueryRetrieveLevel, "STUDY");
  if (charset) ds.putAndInsertString(DCM_SpecificCharacterSet, charset);
  ds.putAndInsertOFStringArray(DCM_PatientName, OFString(name.data(), name.size()));
  ds.putAndInsertString(DCM_StudyInstanceUID, "");
  return ds;
}

std::string KeyOf(const Query& q, Tag tag) {
  for (const auto& [t, v] : q.keys)
    if (t == tag) return v;
  return "<absent>";
}

TEST(FindIdentifier, Latin1KeyIsDecodedToUtf8) {
  DcmDataset ds = Request("ISO_IR 100", "M\xFCller*");
  auto q = IdentifierToQuery(&ds, QueryRoot::kStudy);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(KeyOf(*q, tags::kPatientName), "M\xC3\xBCller*");
}

TEST(FindIdentifier, Iso2022JapaneseKeyIsDecoded) {
  // chrH31's "Yamada^Tarou=山田^太郎": ESC $ B selects JIS X 0208, ESC ( B returns to ASCII.
  DcmDataset ds = Request("\\ISO 2022 IR 87",
                          "Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B");
  auto q = IdentifierToQuery(&ds, QueryRoot::kStudy);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(KeyOf(*q, tags::kPatientName), "Yamada^Tarou=\xE5\xB1\xB1\xE7\x94\xB0^\xE5\xA4\xAA\xE9\x83\x8E");
}

TEST(FindIdentifier, AnswerInRequestersCharsetWhenItFits) {
  DcmDataset ds = Request("ISO_IR 100", "M\xFCller*");
  AttributeValues match{{tags::kPatientName, "M\xC3\xBCller^Hans"}, {tags::kStudyInstanceUID, "1.2.3"}};
  std::unique_ptr<DcmDataset> out(MatchToIdentifier(&ds, match, QueryLevel::kStudy));
  EXPECT_EQ(Get(*out, DCM_SpecificCharacterSet), "ISO_IR 100");
  EXPECT_EQ(Get(*out, DCM_PatientName), "M\xFCller^Hans");
  EXPECT_EQ(Get(*out, DCM_StudyInstanceUID), "1.2.3");
}

TEST(FindIdentifier, AnswerInUtf8WhenAValueDoesNotFit) {
  DcmDataset ds = Request("ISO_IR 100", "*");
  AttributeValues match{{tags::kPatientName, "\xE5\xB1\xB1\xE7\x94\xB0^\xE5\xA4\xAA\xE9\x83\x8E"}};
  std::unique_ptr<DcmDataset> out(MatchToIdentifier(&ds, match, QueryLevel::kStudy));
  EXPECT_EQ(Get(*out, DCM_SpecificCharacterSet), "ISO_IR 192");
  EXPECT_EQ(Get(*out, DCM_PatientName), "\xE5\xB1\xB1\xE7\x94\xB0^\xE5\xA4\xAA\xE9\x83\x8E");
}

TEST(FindIdentifier, UnlabelledOnlyWhenAllAscii) {
  DcmDataset ds = Request(nullptr, "*");
  AttributeValues ascii{{tags::kPatientName, "Doe^John"}};
  std::unique_ptr<DcmDataset> a(MatchToIdentifier(&ds, ascii, QueryLevel::kStudy));
  EXPECT_EQ(Get(*a, DCM_SpecificCharacterSet), "<absent>");
  AttributeValues greek{{tags::kPatientName, "\xCE\x94\xCE\xB9\xCE\xBF\xCE\xBD\xCF\x85\xCF\x83\xCE\xB9\xCE\xBF\xCF\x82"}};
  std::unique_ptr<DcmDataset> g(MatchToIdentifier(&ds, greek, QueryLevel::kStudy));
  EXPECT_EQ(Get(*g, DCM_SpecificCharacterSet), "ISO_IR 192");
}

}  // namespace
}  // namespace strata
