#include <gtest/gtest.h>

#include "net/web/http_util.h"
#include "net/web/wado.h"

namespace strata::web {
namespace {

TEST(AcceptTest, ParsesRangesByQuality) {
  auto a = ParseAccept("image/png;q=0.5, multipart/related; type=\"application/dicom\"; transfer-syntax=*, "
                       "text/html;q=0");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].type, "multipart/related");
  EXPECT_EQ(a[0].Param("type"), "application/dicom");
  EXPECT_EQ(a[0].Param("transfer-syntax"), "*");
  EXPECT_EQ(a[1].type, "image/png");
  EXPECT_EQ(ParseAccept("")[0].type, "*/*");
}

TEST(AcceptTest, ChoosesInClientOrder) {
  EXPECT_EQ(ChooseMediaType(ParseAccept("image/png, image/jpeg"), {"image/jpeg", "image/png"}), "image/png");
  EXPECT_EQ(ChooseMediaType(ParseAccept("image/*"), {"image/jpeg", "image/png"}), "image/jpeg");
  EXPECT_EQ(ChooseMediaType(ParseAccept("*/*"), {"image/jpeg", "image/png"}), "image/jpeg");
  EXPECT_FALSE(ChooseMediaType(ParseAccept("image/gif"), {"image/jpeg", "image/png"}));
  EXPECT_EQ(ChooseMediaType(ParseAccept("application/json"), {"application/dicom+json", "application/json"}),
            "application/json");
}

TEST(DicomNegotiationTest, DefaultIsExplicitLittleEndian) {
  auto d = NegotiateDicom(ParseAccept("multipart/related; type=\"application/dicom\""), false);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->multipart);
  EXPECT_FALSE(d->any_syntax);
  EXPECT_EQ(d->syntaxes, std::vector<std::string>{"1.2.840.10008.1.2.1"});
  // Stored explicit: as is; stored JPEG-LS: decoded; stored implicit: converted.
  EXPECT_EQ(TargetSyntax("1.2.840.10008.1.2.1", *d).value(), "1.2.840.10008.1.2.1");
  EXPECT_EQ(TargetSyntax("1.2.840.10008.1.2.4.80", *d).value(), "1.2.840.10008.1.2.1");
  EXPECT_EQ(TargetSyntax("1.2.840.10008.1.2", *d).value(), "1.2.840.10008.1.2.1");
}

TEST(DicomNegotiationTest, StarMeansAsStored) {
  auto d = NegotiateDicom(ParseAccept("multipart/related; type=\"application/dicom\"; transfer-syntax=*"), false);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->any_syntax);
  EXPECT_EQ(TargetSyntax("1.2.840.10008.1.2.4.80", *d).value(), "1.2.840.10008.1.2.4.80");
}

TEST(DicomNegotiationTest, LossyIsNeverReencodedLosslessly) {
  auto d = NegotiateDicom(
      ParseAccept("multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.4.80"), false);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(TargetSyntax("1.2.840.10008.1.2.1", *d).value(), "1.2.840.10008.1.2.4.80");
  EXPECT_FALSE(TargetSyntax("1.2.840.10008.1.2.4.50", *d).ok());  // JPEG baseline -> JPEG-LS: no
}

TEST(DicomNegotiationTest, OtherTypesAreNotAcceptable) {
  EXPECT_FALSE(NegotiateDicom(ParseAccept("application/json"), false).ok());
  EXPECT_FALSE(NegotiateDicom(ParseAccept("multipart/related; type=\"image/jpeg\""), false).ok());
  EXPECT_FALSE(NegotiateDicom(ParseAccept("application/dicom"), false).ok());
  auto single = NegotiateDicom(ParseAccept("application/dicom"), true);
  ASSERT_TRUE(single.ok());
  EXPECT_FALSE(single->multipart);
  EXPECT_TRUE(NegotiateDicom(ParseAccept("*/*"), false).ok());
}

}  // namespace
}  // namespace strata::web
