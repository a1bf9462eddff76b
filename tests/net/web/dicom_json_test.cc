#include "net/web/dicom_json.h"

#include <gtest/gtest.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcvrul.h>

#include "test_files.h"

namespace strata::web {
namespace {

using nlohmann::json;

TEST(DicomJsonTest, PersonNameGroups) {
  EXPECT_EQ(ValueToJson("PN", "Doe^Jane"), json::parse(R"({"vr":"PN","Value":[{"Alphabetic":"Doe^Jane"}]})"));
  EXPECT_EQ(ValueToJson("PN", "Yamada^Tarou=山田^太郎=やまだ^たろう"),
            json::parse(R"({"vr":"PN","Value":[{"Alphabetic":"Yamada^Tarou","Ideographic":"山田^太郎",
                           "Phonetic":"やまだ^たろう"}]})"));
  EXPECT_EQ(ValueToJson("PN", "=山田^太郎"), json::parse(R"({"vr":"PN","Value":[{"Ideographic":"山田^太郎"}]})"));
  EXPECT_EQ(ValueToJson("PN", "Doe^J\\Roe^R"),
            json::parse(R"({"vr":"PN","Value":[{"Alphabetic":"Doe^J"},{"Alphabetic":"Roe^R"}]})"));
}

TEST(DicomJsonTest, DatesTimesAndStringsStayStrings) {
  EXPECT_EQ(ValueToJson("DA", "20240131"), json::parse(R"({"vr":"DA","Value":["20240131"]})"));
  EXPECT_EQ(ValueToJson("TM", "101500.25 "), json::parse(R"({"vr":"TM","Value":["101500.25"]})"));
  EXPECT_EQ(ValueToJson("CS", "CT\\MR"), json::parse(R"({"vr":"CS","Value":["CT","MR"]})"));
  EXPECT_EQ(ValueToJson("UI", std::string("1.2.3\0", 6)), json::parse(R"({"vr":"UI","Value":["1.2.3"]})"));
  // LT/ST/UT are single-valued: a backslash is text; leading spaces are kept.
  EXPECT_EQ(ValueToJson("LT", "  a\\b  "), json::parse(R"({"vr":"LT","Value":["  a\\b"]})"));
}

TEST(DicomJsonTest, NumbersBecomeJsonNumbers) {
  EXPECT_EQ(ValueToJson("IS", "12\\-3"), json::parse(R"({"vr":"IS","Value":[12,-3]})"));
  json ds = ValueToJson("DS", " 0.5\\2\\1e3");
  ASSERT_EQ(ds["Value"].size(), 3u);
  EXPECT_TRUE(ds["Value"][0].is_number_float());
  EXPECT_DOUBLE_EQ(ds["Value"][0].get<double>(), 0.5);
  EXPECT_TRUE(ds["Value"][1].is_number_integer());
  EXPECT_DOUBLE_EQ(ds["Value"][2].get<double>(), 1000.0);
  EXPECT_EQ(ValueToJson("IS", "twelve"), json::parse(R"({"vr":"IS"})"));  // no number at all: no Value
  EXPECT_EQ(ValueToJson("IS", "1\\x"), json::parse(R"({"vr":"IS","Value":[1,null]})"));
}

TEST(DicomJsonTest, CatalogTextOfBinaryVrsBecomesNumbers) {
  EXPECT_EQ(ValueToJson("US", "512"), json::parse(R"({"vr":"US","Value":[512]})"));
  EXPECT_EQ(ValueToJson("SS", "-2\\3"), json::parse(R"({"vr":"SS","Value":[-2,3]})"));
  EXPECT_EQ(ValueToJson("FD", "2.5"), json::parse(R"({"vr":"FD","Value":[2.5]})"));
}

TEST(DicomJsonTest, EmptyValueHasNoValue) {
  EXPECT_EQ(ValueToJson("LO", ""), json::parse(R"({"vr":"LO"})"));
  EXPECT_EQ(ValueToJson("PN", "  "), json::parse(R"({"vr":"PN"})"));
}

TEST(DicomJsonTest, DatasetEncoding) {
  auto ff = testing::MakeImage(4, 3, 1);
  DcmDataset* ds = ff->getDataset();
  ds->putAndInsertString(DCM_StudyDate, "20240131");
  ds->putAndInsertString(DCM_StudyTime, "093000");
  ds->putAndInsertString(DCM_InstanceNumber, "7");
  ds->putAndInsertString(DCM_PixelSpacing, "0.5\\0.25");
  ds->putAndInsertSint16(DCM_SmallestImagePixelValue, -5);
  ds->putAndInsertString(DCM_SpacingBetweenSlices, "1.25");
  ds->putAndInsertFloat64(DCM_DiffusionBValue, 800.5);
  const Uint8 small[4] = {1, 2, 3, 250};
  ds->putAndInsertUint8Array(DCM_ICCProfile, small, 4);  // a small OB (inline)
  ds->insert(new DcmUnsignedLong(DcmTagKey(0x0028, 0x0000)));       // a group length: left out
  JsonEncodeOptions opts;
  opts.bulk_data_uri = [](Tag t) { return "http://x/bulk/" + TagHex(t); };
  json j = DatasetToJson(*ds, opts);

  EXPECT_EQ(j["00100010"], json::parse(R"({"vr":"PN","Value":[{"Alphabetic":"Doe^Jane"}]})"));
  EXPECT_EQ(j["00080020"], json::parse(R"({"vr":"DA","Value":["20240131"]})"));
  EXPECT_EQ(j["00080030"], json::parse(R"({"vr":"TM","Value":["093000"]})"));
  EXPECT_EQ(j["00200013"], json::parse(R"({"vr":"IS","Value":[7]})"));
  EXPECT_EQ(j["00280030"], json::parse(R"({"vr":"DS","Value":[0.5,0.25]})"));
  EXPECT_EQ(j["00280010"], json::parse(R"({"vr":"US","Value":[4]})"));
  EXPECT_EQ(j["00280106"], json::parse(R"({"vr":"SS","Value":[-5]})"));
  EXPECT_EQ(j["00180088"], json::parse(R"({"vr":"DS","Value":[1.25]})"));
  EXPECT_EQ(j["00189087"], json::parse(R"({"vr":"FD","Value":[800.5]})"));
  EXPECT_EQ(j["0020000D"], json::parse(R"({"vr":"UI","Value":["1.2.3.4"]})"));
  // Sequence items are objects.
  ASSERT_EQ(j["00081110"]["vr"], "SQ");
  ASSERT_EQ(j["00081110"]["Value"].size(), 1u);
  EXPECT_EQ(j["00081110"]["Value"][0]["00081155"], json::parse(R"({"vr":"UI","Value":["1.2.3.9"]})"));
  // Pixel Data is bulk data; a small OB is inline; group lengths are not in the model.
  EXPECT_EQ(j["7FE00010"], json::parse(R"({"vr":"OW","BulkDataURI":"http://x/bulk/7FE00010"})"));
  EXPECT_EQ(j["00282000"], json::parse(R"({"vr":"OB","InlineBinary":"AQID+g=="})"));
  EXPECT_FALSE(j.contains("00280000"));
  // Keys come out in tag order.
  std::string prev;
  for (auto it = j.begin(); it != j.end(); ++it) {
    EXPECT_LT(prev, it.key());
    prev = it.key();
  }
}

TEST(DicomJsonTest, WithoutBulkDataUriPixelDataIsInlineWhenSmall) {
  auto ff = testing::MakeImage(2, 2, 1);
  json j = DatasetToJson(*ff->getDataset());
  ASSERT_TRUE(j["7FE00010"].contains("InlineBinary"));
  EXPECT_EQ(j["7FE00010"]["InlineBinary"], "AAABAAIAAwA=");  // 0,1,2,3 as little-endian 16-bit
}

TEST(DicomJsonTest, ConvertsOtherCharacterSetsToUtf8) {
  DcmDataset ds;
  ds.putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 100");
  ds.putAndInsertString(DCM_PatientName, "M\xFCller^Hans");  // Latin-1 ü
  json j = DatasetToJson(ds);
  EXPECT_EQ(j["00100010"]["Value"][0]["Alphabetic"], "M\xC3\xBCller^Hans");
  EXPECT_EQ(j["00080005"]["Value"][0], "ISO_IR 192");
  EXPECT_NO_THROW(DumpJson(j));
}

TEST(DicomJsonTest, DecodesIso2022AndASequenceItemsOwnCharset) {
  DcmDataset ds;
  ds.putAndInsertString(DCM_SpecificCharacterSet, "\\ISO 2022 IR 87");
  ds.putAndInsertString(DCM_PatientName, "Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B");
  auto* item = new DcmItem();
  item->putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 100");
  item->putAndInsertString(DCM_PatientName, "M\xFCller^Hans");
  ASSERT_TRUE(ds.insertSequenceItem(DCM_OtherPatientIDsSequence, item).good());
  json j = DatasetToJson(ds);
  EXPECT_EQ(j["00100010"]["Value"][0]["Alphabetic"], "Yamada^Tarou");
  EXPECT_EQ(j["00100010"]["Value"][0]["Ideographic"], "\xE5\xB1\xB1\xE7\x94\xB0^\xE5\xA4\xAA\xE9\x83\x8E");
  const json& nested = j["00101002"]["Value"][0];
  EXPECT_EQ(nested["00100010"]["Value"][0]["Alphabetic"], "M\xC3\xBCller^Hans");
  EXPECT_EQ(nested["00080005"]["Value"][0], "ISO_IR 192");
  EXPECT_EQ(j["00080005"]["Value"][0], "ISO_IR 192");
  EXPECT_NO_THROW(DumpJson(j));
}

TEST(DicomJsonTest, TagHex) {
  EXPECT_EQ(TagHex(MakeTag(0x0020, 0x000D)), "0020000D");
  EXPECT_EQ(TagHex(MakeTag(0x7FE0, 0x0010)), "7FE00010");
}

}  // namespace
}  // namespace strata::web
