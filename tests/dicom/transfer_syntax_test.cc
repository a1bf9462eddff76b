// The one transfer-syntax table: checked against DCMTK's own registry (an independent source
// for every UID DCMTK 3.6.7 knows) and against the families the pixel check relies on.
#include "dicom/transfer_syntax.h"

#include <gtest/gtest.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <set>
#include <string>

namespace strata {
namespace {

TEST(TransferSyntaxTable, AgreesWithDcmtkOnEveryUidItKnows) {
  std::set<std::string_view> seen;
  int checked = 0;
  for (const TransferSyntax& t : AllTransferSyntaxes()) {
    EXPECT_TRUE(seen.insert(t.uid).second) << "duplicate " << t.uid;
    EXPECT_EQ(FindTransferSyntax(t.uid), &t);
    EXPECT_FALSE(t.name.empty()) << t.uid;
    const std::string uid(t.uid);
    DcmXfer x(uid.c_str());
    if (x.getXfer() == EXS_Unknown) continue;  // HTJ2K: newer than DCMTK 3.6.7
    ++checked;
    EXPECT_EQ(t.explicit_vr, x.isExplicitVR()) << t.uid;
    EXPECT_EQ(t.big_endian, x.isBigEndian()) << t.uid;
    EXPECT_EQ(t.encapsulated(), bool(x.isEncapsulated())) << t.uid;
    EXPECT_EQ(t.deflated, x.getStreamCompression() != ESC_none) << t.uid;
    EXPECT_EQ(t.family == PixelFamily::kReferenced, bool(x.isReferenced())) << t.uid;
    if (x.isLossy()) EXPECT_NE(t.lossiness, Lossiness::kLossless) << t.uid;
    if (t.lossiness == Lossiness::kLossy) EXPECT_TRUE(x.isLossy()) << t.uid;
  }
  EXPECT_GE(checked, 16);
}

TEST(TransferSyntaxTable, FindsWithPaddingAndNamesUnknownByUid) {
  ASSERT_NE(FindTransferSyntax(std::string(syntax::kJpegLsLossless) + '\0'), nullptr);
  EXPECT_EQ(FindTransferSyntax(std::string(syntax::kHtj2k) + ' ')->uid, syntax::kHtj2k);
  EXPECT_EQ(FindTransferSyntax("1.2.840.10008.1.2.4.100"), nullptr);
  EXPECT_EQ(SyntaxName(syntax::kExplicitLE), "Explicit VR Little Endian");
  EXPECT_EQ(SyntaxName(syntax::kHtj2kLossless), "HTJ2K lossless");
  EXPECT_EQ(SyntaxName(std::string("9.9") + '\0'), "9.9");
}

TEST(TransferSyntaxTable, UncompressedAndFamilies) {
  for (const char* uid : {syntax::kImplicitLE, syntax::kExplicitLE, syntax::kExplicitBE, syntax::kDeflatedLE})
    EXPECT_TRUE(IsUncompressedSyntax(uid)) << uid;
  for (const char* uid : {syntax::kJpegLsLossless, syntax::kRleLossless, syntax::kJpipReferenced, "1.2.3", ""})
    EXPECT_FALSE(IsUncompressedSyntax(uid)) << uid;
  EXPECT_EQ(PixelFamilyOf(syntax::kRleLossless), PixelFamily::kRle);
  EXPECT_EQ(PixelFamilyOf(syntax::kJpegLsNearLossless), PixelFamily::kJpegLs);
  EXPECT_EQ(PixelFamilyOf(syntax::kHtj2kLosslessRpcl), PixelFamily::kJ2k);
  EXPECT_EQ(PixelFamilyOf(syntax::kJ2kMc), PixelFamily::kJ2k);
  EXPECT_EQ(PixelFamilyOf(syntax::kJpipReferencedDeflate), PixelFamily::kReferenced);
  // Outside the table: by the UID root.
  EXPECT_EQ(PixelFamilyOf("1.2.840.10008.1.2.4.53"), PixelFamily::kJpeg);      // retired JPEG
  EXPECT_EQ(PixelFamilyOf("1.2.840.10008.1.2.4.100"), PixelFamily::kOtherEncapsulated);  // MPEG2
  EXPECT_EQ(PixelFamilyOf("1.2.840.10008.1.2.4.110"), PixelFamily::kOtherEncapsulated);  // JPEG XL
  EXPECT_EQ(PixelFamilyOf("1.2.840.10008.1.2.4.5x"), PixelFamily::kOtherEncapsulated);
  EXPECT_EQ(PixelFamilyOf("1.2.276.0.7230010.3.1.4.1"), PixelFamily::kUnknown);  // private
}

}  // namespace
}  // namespace strata
