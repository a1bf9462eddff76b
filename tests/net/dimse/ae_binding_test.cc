#include "net/dimse/ae_binding.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

using Bindings = std::map<std::string, std::vector<std::string>>;

Bindings Sample() { return {{"modality.example", {"MODALITY", "MOD2"}}, {"viewer.example", {"VIEWER"}}}; }

TEST(AeBinding, BoundAeNeedsItsCertificate) {
  const Bindings b = Sample();
  EXPECT_EQ(CheckAeBinding(b, true, {"modality.example"}, "MODALITY"), "");
  EXPECT_EQ(CheckAeBinding(b, true, {"modality.example"}, "MOD2"), "");
  // The identity may be a subjectAltName after the CN.
  EXPECT_EQ(CheckAeBinding(b, true, {"Some CN", "viewer.example"}, "VIEWER"), "");
  EXPECT_NE(CheckAeBinding(b, true, {"viewer.example"}, "MODALITY"), "");
  EXPECT_NE(CheckAeBinding(b, true, {"stranger.example"}, "MODALITY"), "");
  EXPECT_NE(CheckAeBinding(b, true, {}, "MODALITY").find("none was shown"), std::string::npos);
  EXPECT_NE(CheckAeBinding(b, false, {}, "MODALITY").find("plain port"), std::string::npos);
}

TEST(AeBinding, BoundCertificateCallsOnlyAsItsAes) {
  const Bindings b = Sample();
  const std::string why = CheckAeBinding(b, true, {"modality.example"}, "ANYONE");
  EXPECT_NE(why.find("may call only as MODALITY|MOD2"), std::string::npos) << why;
  EXPECT_NE(CheckAeBinding(b, true, {"viewer.example"}, "MOD2"), "");
}

TEST(AeBinding, UnboundAesStayOpenToUnboundPeers) {
  const Bindings b = Sample();
  EXPECT_EQ(CheckAeBinding(b, false, {}, "ANYONE"), "");
  EXPECT_EQ(CheckAeBinding(b, true, {}, "ANYONE"), "");
  EXPECT_EQ(CheckAeBinding(b, true, {"stranger.example"}, "ANYONE"), "");
  EXPECT_EQ(CheckAeBinding({}, false, {}, "MODALITY"), "");
  // AE titles compare exactly (DICOM AE titles are case-sensitive).
  EXPECT_EQ(CheckAeBinding(b, false, {}, "modality"), "");
}

TEST(AeBinding, ParsesAndValidatesTheSetting) {
  Bindings out;
  EXPECT_EQ(ParseAeBindings({{"modality.example", "MODALITY| MOD2 "}, {"v", "VIEWER"}}, &out), "");
  EXPECT_EQ(out, (Bindings{{"modality.example", {"MODALITY", "MOD2"}}, {"v", {"VIEWER"}}}));
  EXPECT_NE(ParseAeBindings({{"x", ""}}, &out), "");
  EXPECT_NE(ParseAeBindings({{"x", "A||B"}}, &out), "");
  EXPECT_NE(ParseAeBindings({{"x", "SEVENTEEN_CHARS_X"}}, &out), "");
  EXPECT_NE(ParseAeBindings({{"", "A"}}, &out), "");
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace strata
