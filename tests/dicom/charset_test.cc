#include "dicom/charset.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "util/utf8.h"

namespace strata {
namespace {

std::string Dec(std::string_view cs, std::string_view bytes, TextKind kind = TextKind::kPersonName,
                size_t* escaped = nullptr) {
  return CharsetDecoder(cs).Decode(bytes, kind, escaped);
}

// The Patient's Name bytes of pydicom's charset files (FileInfo.txt) and their text.
struct Sample {
  const char* file;
  const char* charset;
  std::string bytes;
  const char* text;
};

const std::vector<Sample>& Samples() {
  static const std::vector<Sample> s = {
      {"chrArab.dcm", "ISO_IR 127", "\xe2\xc8\xc7\xe6\xea^\xe4\xe6\xd2\xc7\xd1", "قباني^لنزار"},
      {"chrFren.dcm", "ISO_IR 100", "Buc^J\xe9r\xf4me", "Buc^Jérôme"},
      {"chrFrenMulti.dcm", "ISO_IR 100", "Buc^J\xe9r\xf4me", "Buc^Jérôme"},
      {"chrGerm.dcm", "ISO_IR 100", "\xc4neas^R\xfc" "diger", "Äneas^Rüdiger"},
      {"chrGreek.dcm", "ISO_IR 126", "\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2", "Διονυσιος"},
      {"chrH31.dcm", "\\ISO 2022 IR 87",
       "Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B",
       "Yamada^Tarou=山田^太郎=やまだ^たろう"},
      {"chrH32.dcm", "ISO 2022 IR 13\\ISO 2022 IR 87",
       "\xd4\xcf\xc0\xde^\xc0\xdb\xb3=\x1b$B;3ED\x1b(J^\x1b$BB@O:\x1b(J=\x1b$B$d$^$@\x1b(J^\x1b$B$?$m$&\x1b(J",
       "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"},
      {"chrHbrw.dcm", "ISO_IR 138", "\xf9\xf8\xe5\xef^\xe3\xe1\xe5\xf8\xe4", "שרון^דבורה"},
      {"chrI2.dcm", "\\ISO 2022 IR 149",
       "Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7=\x1b$)C\xc8\xab^\x1b$)C\xb1\xe6\xb5\xbf",
       "Hong^Gildong=洪^吉洞=홍^길동"},
      {"chrJapMulti.dcm", "\\ISO 2022 IR 87", "\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B", "やまだ^たろう"},
      {"chrJapMultiExplicitIR6.dcm", "ISO 2022 IR 6\\ISO 2022 IR 87", "\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B",
       "やまだ^たろう"},
      {"chrKoreanMulti.dcm", "\\ISO 2022 IR 149", "\x1b$)C\xb1\xe8\xc8\xf1\xc1\xdf\x1b(B", "김희중"},
      {"chrRuss.dcm", "ISO_IR 144", "\xbb\xee\xda" "ce\xdc\xd1yp\xd3", "Люкceмбypг"},
      {"chrX1.dcm", "ISO_IR 192", "Wang^XiaoDong=\xe7\x8e\x8b^\xe5\xb0\x8f\xe6\x9d\xb1=", "Wang^XiaoDong=王^小東="},
      {"chrX2.dcm", "GB18030", "Wang^XiaoDong=\xcd\xf5^\xd0\xa1\xb6\xab=", "Wang^XiaoDong=王^小东="},
  };
  return s;
}

TEST(CharsetTest, DecodesEveryPydicomSample) {
  for (const Sample& s : Samples()) {
    size_t escaped = 99;
    EXPECT_EQ(Dec(s.charset, s.bytes, TextKind::kPersonName, &escaped), s.text) << s.file;
    EXPECT_EQ(escaped, 0u) << s.file;
  }
}

std::string PydicomCharsetDir() {
  return "/usr/lib/python3/dist-packages/pydicom/data/charset_files";
}

// The same, read from the files with DCMTK (the bytes as a store would see them).
TEST(CharsetTest, DecodesThePatientNameOfEveryPydicomFile) {
  if (!std::filesystem::exists(PydicomCharsetDir())) {
    if (std::getenv("CI")) FAIL() << "python3-pydicom is not installed";
    GTEST_SKIP() << "python3-pydicom is not installed";
  }
  for (const Sample& s : Samples()) {
    DcmFileFormat ff;
    ASSERT_TRUE(ff.loadFile((PydicomCharsetDir() + "/" + s.file).c_str()).good()) << s.file;
    OFString cs, name;
    ff.getDataset()->findAndGetOFStringArray(DCM_SpecificCharacterSet, cs);
    ASSERT_TRUE(ff.getDataset()->findAndGetOFStringArray(DCM_PatientName, name).good()) << s.file;
    std::string bytes(name.c_str(), name.length());
    while (!bytes.empty() && bytes.back() == ' ') bytes.pop_back();
    EXPECT_EQ(CharsetDecoder(cs.c_str()).Decode(bytes, TextKind::kPersonName), s.text) << s.file;
  }
}

TEST(CharsetTest, SingleByteSetsAgreeWithTheirCodePages) {
  EXPECT_EQ(Dec("ISO_IR 101", "\xa3\xf3" "d\xbc"), "Łódź");
  EXPECT_EQ(Dec("ISO_IR 109", "\xa6"), "Ĥ");
  EXPECT_EQ(Dec("ISO_IR 110", "\xbd"), "Ŋ");
  EXPECT_EQ(Dec("ISO_IR 148", "\xdd\xfe"), "İş");
  EXPECT_EQ(Dec("ISO_IR 203", "\xa4"), "€");
  EXPECT_EQ(Dec("ISO_IR 166", "\xa1"), "ก");
  EXPECT_EQ(Dec("ISO_IR 13", "\xb1\xb2"), "ｱｲ");
  EXPECT_EQ(Dec("ISO 2022 IR 100", "M\xfcller"), "Müller");
  EXPECT_EQ(Dec("ISO 2022 IR 203", "\xa4"), "€");
}

TEST(CharsetTest, EscapesSwitchCodeElementsAndResetAtDelimiters) {
  // G1 switched from Latin-1 to Greek by ESC - F, back at '^'.
  EXPECT_EQ(Dec("ISO 2022 IR 100\\ISO 2022 IR 126", "\xe9\x1b-F\xe1^\xe9"), "éα^é");
  // A multi-valued LO resets at '\', a text value does not.
  EXPECT_EQ(Dec("ISO 2022 IR 100\\ISO 2022 IR 126", "\x1b-F\xe1\\\xe1", TextKind::kMultiValued), "α\\á");
  EXPECT_EQ(Dec("ISO 2022 IR 100\\ISO 2022 IR 126", "\x1b-F\xe1\\\xe1", TextKind::kText), "α\\α");
  // ... but a text value resets at a line end.
  EXPECT_EQ(Dec("ISO 2022 IR 100\\ISO 2022 IR 126", "\x1b-F\xe1\r\n\xe1", TextKind::kText), "α\r\ná");
  // JIS X 0212 (ISO 2022 IR 159), and GB 2312 (ISO 2022 IR 58).
  EXPECT_EQ(Dec("\\ISO 2022 IR 159", "\x1b$(D\x30\x21\x1b(B"), "丂");
  EXPECT_EQ(Dec("\\ISO 2022 IR 58", "\x1b$)A\xcd\xf5"), "王");
  // Thai through ISO 2022 IR 166.
  EXPECT_EQ(Dec("\\ISO 2022 IR 166", "\x1b-T\xa1"), "ก");
}

TEST(CharsetTest, DelimiterBytesInsideTwoByteCharactersAreNotDelimiters) {
  // JIS X 0208 0x5E5E, 0x3D3D and 0x5C5C hold the bytes of '^', '=' and '\'.
  std::string bytes = "\x1b$B\x5e\x5e\x3d\x3d\x1b(B";
  size_t escaped = 9;
  const std::string text = Dec("\\ISO 2022 IR 87", bytes, TextKind::kPersonName, &escaped);
  EXPECT_EQ(escaped, 0u);
  EXPECT_EQ(text.find('^'), std::string::npos) << text;
  EXPECT_EQ(text.find('='), std::string::npos) << text;
  EXPECT_TRUE(IsValidUtf8(text));
}

TEST(CharsetTest, UndecodableBytesAreEscapedLosslesslyAndNeverFail) {
  size_t escaped = 0;
  // 0xA1 is unassigned in ISO 8859-6; 0xFF is never UTF-8; 0xFF 0xFF is no KS X 1001 character.
  std::string a = Dec("ISO_IR 127", "a\xa1" "b", TextKind::kMultiValued, &escaped);
  EXPECT_EQ(escaped, 1u);
  EXPECT_TRUE(IsValidUtf8(a));
  std::string expect = "a";
  AppendEscapedByte(0xA1, &expect);
  expect += "b";
  EXPECT_EQ(a, expect);
  EXPECT_EQ(Dec("ISO_IR 192", "x\xff", TextKind::kMultiValued, &escaped), EscapeInvalidUtf8("x\xff"));
  EXPECT_EQ(escaped, 1u);
  EXPECT_TRUE(IsValidUtf8(Dec("\\ISO 2022 IR 149", "\x1b$)C\xff\xff", TextKind::kPersonName, &escaped)));
  EXPECT_EQ(escaped, 2u);
  // An unknown escape sequence and a truncated two-byte character.
  EXPECT_TRUE(IsValidUtf8(Dec("\\ISO 2022 IR 87", "\x1b%Gx\x1b$B\x30", TextKind::kPersonName, &escaped)));
  EXPECT_EQ(escaped, 2u);
  EXPECT_TRUE(IsValidUtf8(Dec("GB18030", "\x81", TextKind::kPersonName, &escaped)));
  EXPECT_EQ(escaped, 1u);
}

TEST(CharsetTest, DefaultRepertoireTakesUtf8OrLatin1) {
  EXPECT_EQ(Dec("", "Doe^John"), "Doe^John");
  EXPECT_EQ(Dec("", "M\xc3\xbcller"), "Müller");
  EXPECT_EQ(Dec("ISO_IR 6", "M\xfcller"), "Müller");
}

TEST(CharsetTest, UnknownTermsAreReported) {
  CharsetDecoder d("ISO_IR 999");
  ASSERT_EQ(d.unknown_terms().size(), 1u);
  EXPECT_EQ(d.unknown_terms()[0], "ISO_IR 999");
  EXPECT_TRUE(IsValidUtf8(d.Decode("M\xfcller", TextKind::kPersonName)));
}

TEST(CharsetTest, EncodesForTheRequestersCharacterSet) {
  EXPECT_EQ(EncodeForCharset("ISO_IR 100", "Äneas^Rüdiger").value(), "\xc4neas^R\xfc" "diger");
  EXPECT_EQ(EncodeForCharset("ISO_IR 126", "Διονυσιος").value(), "\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2");
  EXPECT_EQ(EncodeForCharset("ISO_IR 192", "山田").value(), "山田");
  EXPECT_EQ(EncodeForCharset("GB18030", "王").value(), "\xcd\xf5");
  EXPECT_EQ(EncodeForCharset("", "Doe").value(), "Doe");
  EXPECT_FALSE(EncodeForCharset("ISO_IR 100", "山田").has_value());
  EXPECT_FALSE(EncodeForCharset("", "Ä").has_value());
  EXPECT_FALSE(EncodeForCharset("ISO_IR 999", "Ä").has_value());
  // Every sample round-trips through the single-byte sets it came from.
  for (const Sample& s : Samples()) {
    const std::string cs = s.charset;
    if (cs.rfind("ISO_IR 1", 0) != 0 || cs == "ISO_IR 192") continue;
    EXPECT_EQ(EncodeForCharset(cs, s.text).value(), s.bytes) << s.file;
  }
}

}  // namespace
}  // namespace strata

namespace strata {
namespace {

// query.pn_match = insensitive: the key both sides of a name comparison are folded to.
TEST(FoldForMatching, CaseAndAccentsOfLatinGreekCyrillic) {
  EXPECT_EQ(FoldForMatching("M\xc3\xbcller^J\xc3\xbcrgen"), "MULLER^JURGEN");  // Müller^Jürgen
  EXPECT_EQ(FoldForMatching("MULLER^jurgen"), "MULLER^JURGEN");
  EXPECT_EQ(FoldForMatching("\xc3\x84neas^R\xc3\xbc" "diger"), "ANEAS^RUDIGER");  // Äneas^Rüdiger
  EXPECT_EQ(FoldForMatching("Stra\xc3\x9f" "e"), "STRASSE");                       // ß
  EXPECT_EQ(FoldForMatching("Buc^J\xc3\xa9r\xc3\xb4me"), "BUC^JEROME");            // Jérôme
  EXPECT_EQ(FoldForMatching("\xc5\x81" "\xc3\xb3" "d\xc5\xba"), "LODZ");           // Łódź
  EXPECT_EQ(FoldForMatching("Mu\xcc\x88ller"), "MULLER");                          // decomposed ü
  // Greek: Διονυσιος and ΔΙΟΝΥΣΙΟΣ and Διονύσιος alike.
  const std::string greek = FoldForMatching("\xce\x94\xce\xb9\xce\xbf\xce\xbd\xcf\x85\xcf\x83\xce\xb9\xce\xbf\xcf\x82");
  EXPECT_EQ(greek, FoldForMatching("\xce\x94\xce\x99\xce\x9f\xce\x9d\xce\xa5\xce\xa3\xce\x99\xce\x9f\xce\xa3"));
  EXPECT_EQ(greek, FoldForMatching("\xce\x94\xce\xb9\xce\xbf\xce\xbd\xcf\x8d\xcf\x83\xce\xb9\xce\xbf\xcf\x82"));
  // Cyrillic: Люксембург / ЛЮКСЕМБУРГ.
  EXPECT_EQ(FoldForMatching("\xd0\x9b\xd1\x8e\xd0\xba\xd1\x81"), "\xd0\x9b\xd0\xae\xd0\x9a\xd0\xa1");
  // Full-width ASCII, wildcards, CJK and escaped bytes unchanged in meaning.
  EXPECT_EQ(FoldForMatching("\xef\xbd\x8d\xef\xbd\x95"), "MU");
  EXPECT_EQ(FoldForMatching("m?ller*"), "M?LLER*");
  EXPECT_EQ(FoldForMatching("\xe5\xb1\xb1\xe7\x94\xb0"), "\xe5\xb1\xb1\xe7\x94\xb0");  // 山田
  EXPECT_EQ(FoldForMatching(EscapeInvalidUtf8("x\xfc")), "X" + EscapeInvalidUtf8("\xfc"));
  EXPECT_TRUE(IsValidUtf8(FoldForMatching("\xc3\x97\xc3\xb7")));  // × ÷ kept
  EXPECT_EQ(FoldForMatching("\xc3\x97"), "\xc3\x97");
}

}  // namespace
}  // namespace strata
