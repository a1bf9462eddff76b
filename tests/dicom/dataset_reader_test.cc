#include "dicom/dataset_reader.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/utf8.h"

namespace strata {
namespace {

const std::string kPydicom = "/usr/lib/python3/dist-packages/pydicom/data/";

bool HavePydicom() { return std::filesystem::exists(kPydicom); }
#define REQUIRE_PYDICOM()                                                        \
  do {                                                                           \
    if (!HavePydicom()) {                                                        \
      if (std::getenv("CI")) FAIL() << "python3-pydicom is not installed";       \
      GTEST_SKIP() << "python3-pydicom is not installed";                        \
    }                                                                            \
  } while (0)

TEST(DatasetReaderTest, CataloguesNamesAsUtf8FromTheirCharacterSet) {
  REQUIRE_PYDICOM();
  const std::pair<const char*, const char*> cases[] = {
      {"chrGerm.dcm", "Äneas^Rüdiger"},
      {"chrGreek.dcm", "Διονυσιος"},
      {"chrH32.dcm", "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"},
      {"chrI2.dcm", "Hong^Gildong=洪^吉洞=홍^길동"},
      {"chrX2.dcm", "Wang^XiaoDong=王^小东="},
  };
  for (const auto& [file, name] : cases) {
    InstanceRecord r;
    ASSERT_TRUE(ReadInstanceAttributes(kPydicom + "charset_files/" + file, &r).ok()) << file;
    EXPECT_EQ(r.patient_name, name) << file;
  }
  // Referring physician (PN) and the LO attributes are decoded too.
  InstanceRecord r;
  ASSERT_TRUE(ReadInstanceAttributes(kPydicom + "charset_files/chrKoreanMulti.dcm", &r).ok());
  EXPECT_EQ(r.patient_name, "김희중");
  EXPECT_EQ(r.study_description, "Chest");
}

TEST(DatasetReaderTest, UndecodableBytesAreCataloguedEscapedNotRefused) {
  REQUIRE_PYDICOM();
  // chrGerm with its character set claimed to be UTF-8: Latin-1 bytes are invalid UTF-8.
  std::ifstream in(kPydicom + "charset_files/chrGerm.dcm", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string bytes = ss.str();
  const size_t at = bytes.find("ISO_IR 100");
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, 10, "ISO_IR 192");
  InstanceRecord r;
  ASSERT_TRUE(ReadInstanceAttributesFromBuffer(bytes, &r).ok());
  EXPECT_TRUE(IsValidUtf8(r.patient_name));
  std::string expect;
  AppendEscapedByte(0xC4, &expect);
  expect += "neas^R";
  AppendEscapedByte(0xFC, &expect);
  expect += "diger";
  EXPECT_EQ(r.patient_name, expect);
}

TEST(DatasetReaderTest, UnknownVrElementsAreReadWithTheirDictionaryVr) {
  REQUIRE_PYDICOM();
  InstanceRecord r;
  Status s = ReadInstanceAttributes(kPydicom + "test_files/rtdose_rle.dcm", &r);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(r.patient_name, "Lastname^Firstname");
  EXPECT_EQ(r.patient_id, "id11111");
  EXPECT_EQ(r.sex, "O");
  EXPECT_EQ(r.study_date, "20030805");
  EXPECT_EQ(r.modality, "RTDOSE");
  EXPECT_EQ(r.study_id, "S1");
  EXPECT_EQ(r.series_number, 1);
  EXPECT_EQ(r.sop_class_uid, "1.2.840.10008.5.1.4.1.1.481.2");
  EXPECT_EQ(r.rows, 10);
}

}  // namespace
}  // namespace strata
