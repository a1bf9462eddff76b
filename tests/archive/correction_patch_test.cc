// The correction patch (archive/correction_patch.h) and the value validation of
// archive/correction.h: new values in, old values in the Original Attributes Sequence, the
// pixel data byte for byte, the transfer syntax kept, nothing done when nothing differs.
#include "archive/correction_patch.h"

#include <gtest/gtest.h>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include "archive/correction.h"
#include "codec/part10_io.h"
#include "codec/synthetic_image.h"
#include "model/attributes.h"

namespace strata {
namespace {

std::string Ct(const char* name = "Doe^John", const char* charset = nullptr) {
  codec::SyntheticSpec spec;
  spec.rows = spec.columns = 512;
  spec.bits_stored = 12;
  spec.pattern = codec::Pattern::kCt;
  auto ff = codec::MakeSyntheticImage(spec);
  DcmDataset* ds = ff->getDataset();
  ds->putAndInsertString(DCM_PatientName, name);
  ds->putAndInsertString(DCM_PatientID, "OLD-ID");
  ds->putAndInsertString(DCM_AccessionNumber, "A1");
  ds->putAndInsertString(DCM_StudyInstanceUID, "1.2.3.4");
  if (charset) ds->putAndInsertString(DCM_SpecificCharacterSet, charset);
  auto bytes = codec::WritePart10(*ff, *codec::FindSyntax("1.2.840.10008.1.2.1"));
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? bytes.value() : std::string();
}

CorrectionRecord Rec(int64_t change, uint32_t tag, std::string old_value, std::string new_value) {
  CorrectionRecord r;
  r.study_uid = "1.2.3.4";
  r.change_id = change;
  r.tag = tag;
  r.old_value = std::move(old_value);
  r.new_value = std::move(new_value);
  r.kind = "correct";
  r.who = "t";
  r.at_ms = 1764700000123;
  return r;
}

std::string Str(DcmItem* item, const DcmTagKey& key) {
  OFString v;
  item->findAndGetOFStringArray(key, v);
  return v.c_str();
}

std::string PixelBytes(const std::string& part10) {
  auto f = codec::ReadPart10(part10);
  EXPECT_TRUE(f.ok());
  DcmElement* px = nullptr;
  EXPECT_TRUE(f->file->getDataset()->findAndGetElement(DCM_PixelData, px).good());
  Uint8* data = nullptr;
  EXPECT_TRUE(px->getUint8Array(data).good());
  return std::string(reinterpret_cast<const char*>(data), px->getLength());
}

TEST(CorrectionPatch, ReplacesValuesAndKeepsTheOldOnesPerChange) {
  const std::string stored = Ct();
  std::vector<CorrectionRecord> recs = {Rec(1, tags::kPatientName, "Doe^John", "Roe^Jane"),
                                        Rec(1, tags::kAccessionNumber, "A1", "A2"),
                                        Rec(2, tags::kPatientName, "Roe^Jane", "Poe^Jane"),
                                        Rec(2, tags::kPatientID, "OLD-ID", "NEW-ID")};
  auto patched = PatchPart10(stored, recs, "Strata test");
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  EXPECT_NE(patched.value(), stored);
  auto f = codec::ReadPart10(patched.value());
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->transfer_syntax, "1.2.840.10008.1.2.1");
  DcmDataset* ds = f->file->getDataset();
  EXPECT_EQ(Str(ds, DCM_PatientName), "Poe^Jane");
  EXPECT_EQ(Str(ds, DCM_PatientID), "NEW-ID");
  EXPECT_EQ(Str(ds, DCM_AccessionNumber), "A2");
  DcmSequenceOfItems* seq = nullptr;
  ASSERT_TRUE(ds->findAndGetSequence(DCM_OriginalAttributesSequence, seq).good());
  ASSERT_EQ(seq->card(), 2u);  // one item per change
  DcmItem* first = seq->getItem(0);
  EXPECT_EQ(Str(first, DCM_ReasonForTheAttributeModification), "CORRECT");
  EXPECT_EQ(Str(first, DCM_ModifyingSystem), "Strata test");
  EXPECT_EQ(Str(first, DCM_AttributeModificationDateTime).substr(0, 14), "20251202182640");
  EXPECT_TRUE(first->tagExists(DCM_SourceOfPreviousValues));
  DcmSequenceOfItems* mod = nullptr;
  ASSERT_TRUE(first->findAndGetSequence(DCM_ModifiedAttributesSequence, mod).good());
  ASSERT_EQ(mod->card(), 1u);
  EXPECT_EQ(Str(mod->getItem(0), DCM_PatientName), "Doe^John");
  EXPECT_EQ(Str(mod->getItem(0), DCM_AccessionNumber), "A1");
  ASSERT_TRUE(seq->getItem(1)->findAndGetSequence(DCM_ModifiedAttributesSequence, mod).good());
  EXPECT_EQ(Str(mod->getItem(0), DCM_PatientName), "Roe^Jane");  // the value before change 2
  EXPECT_EQ(Str(mod->getItem(0), DCM_PatientID), "OLD-ID");
  EXPECT_EQ(PixelBytes(patched.value()), PixelBytes(stored));
}

TEST(CorrectionPatch, NothingToChangeServesTheStoredBytes) {
  const std::string stored = Ct("Roe^Jane");  // sent after the correction, already right
  auto same = PatchPart10(stored, {Rec(1, tags::kPatientName, "Doe^John", "Roe^Jane")}, "s");
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same.value(), stored);
  auto none = PatchPart10(stored, {}, "s");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none.value(), stored);
}

TEST(CorrectionPatch, NonAsciiValueConvertsTheDataSetToUtf8) {
  const std::string stored = Ct("M\xfcller^Hans", "ISO_IR 100");  // Latin-1
  auto patched = PatchPart10(stored, {Rec(1, tags::kPatientName, "Müller^Hans", "Müller^Jörg")}, "s");
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  auto f = codec::ReadPart10(patched.value());
  ASSERT_TRUE(f.ok());
  DcmDataset* ds = f->file->getDataset();
  EXPECT_EQ(Str(ds, DCM_SpecificCharacterSet), "ISO_IR 192");
  EXPECT_EQ(Str(ds, DCM_PatientName), "Müller^Jörg");
  DcmSequenceOfItems* seq = nullptr;
  ASSERT_TRUE(ds->findAndGetSequence(DCM_OriginalAttributesSequence, seq).good());
  DcmSequenceOfItems* mod = nullptr;
  ASSERT_TRUE(seq->getItem(0)->findAndGetSequence(DCM_ModifiedAttributesSequence, mod).good());
  EXPECT_EQ(Str(mod->getItem(0), DCM_PatientName), "Müller^Hans");
}

TEST(CorrectionPatch, GarbageIsAnError) {
  EXPECT_FALSE(PatchPart10("not dicom", {Rec(1, tags::kPatientName, "a", "b")}, "s").ok());
}

TEST(CorrectionValues, ValidatedPerVr) {
  auto ok = [](const char* k, const std::string& v) { return ValidateCorrectionValue(*FindCorrectable(k), v).ok(); };
  EXPECT_TRUE(ok("PatientName", "Doe^Jane^^Dr"));
  EXPECT_TRUE(ok("PatientName", "Yamada^Tarou=山田^太郎=やまだ^たろう"));
  EXPECT_FALSE(ok("PatientName", "a^b^c^d^e^f"));
  EXPECT_FALSE(ok("PatientName", "a=b=c=d"));
  EXPECT_FALSE(ok("PatientName", std::string(65, 'x')));
  EXPECT_FALSE(ok("PatientName", "two\\values"));
  EXPECT_FALSE(ok("PatientName", "bad\xff utf8"));
  EXPECT_TRUE(ok("PatientBirthDate", "20000229"));
  EXPECT_TRUE(ok("PatientBirthDate", ""));
  EXPECT_FALSE(ok("PatientBirthDate", "19000229"));
  EXPECT_FALSE(ok("StudyDate", "2024-01-01"));
  EXPECT_FALSE(ok("StudyDate", "20241301"));
  EXPECT_TRUE(ok("PatientSex", "O"));
  EXPECT_FALSE(ok("PatientSex", "X"));
  EXPECT_FALSE(ok("PatientSex", "m"));
  EXPECT_TRUE(ok("AccessionNumber", std::string(16, '1')));
  EXPECT_FALSE(ok("AccessionNumber", std::string(17, '1')));
  EXPECT_FALSE(ok("StudyDescription", "line\nbreak"));
  EXPECT_FALSE(ok("PatientID", ""));
  EXPECT_EQ(FindCorrectable("00100010"), FindCorrectable("PatientName"));
  EXPECT_EQ(FindCorrectable("Modality"), nullptr);
  auto parsed = ParseCorrections({{"PatientName", "A^B"}, {"00080050", "X"}});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->at(1).first, tags::kAccessionNumber);
  auto unknown = ParseCorrections({{"StudyInstanceUID", "1.2"}});
  EXPECT_EQ(unknown.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("not a correctable attribute"), std::string::npos);
  EXPECT_FALSE(ParseCorrections({}).ok());
  EXPECT_FALSE(ParseCorrections({{"PatientName", "A"}, {"PatientName", "B"}}).ok());
}

}  // namespace
}  // namespace strata
