// Syntax table, CanEncode/CanDecode and ChooseSyntax.
#include <gtest/gtest.h>

#include "codec/syntax_table.h"
#include "codec/transcoder.h"

namespace strata::codec {
namespace {

TEST(SyntaxTableTest, FindsKnownSyntaxesIgnoringPadding) {
  const SyntaxInfo* s = FindSyntax(std::string("1.2.840.10008.1.2.4.80") + '\0');
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->uid, ts::kJpegLsLossless);
  EXPECT_EQ(s->engine, Engine::kDcmtk);
  EXPECT_EQ(FindSyntax("1.2.840.10008.1.2.4.201 ")->engine, Engine::kOpenJph);
  EXPECT_FALSE(FindSyntax("1.2.840.10008.1.2.4.201")->dcmtk_knows_uid);
  EXPECT_EQ(FindSyntax("1.2.840.10008.1.2.4.100"), nullptr);  // MPEG2: not ours
  EXPECT_EQ(SyntaxDisplayName("1.2.840.10008.1.2.4.90"), "JPEG 2000 lossless");
  EXPECT_EQ(SyntaxDisplayName("9.9"), "9.9");
  for (const SyntaxInfo& info : AllSyntaxes()) {
    EXPECT_EQ(FindSyntax(info.uid), &info);
    if (info.dcmtk_knows_uid) {
      EXPECT_EQ(DcmXfer(info.dcmtk_xfer).getXferID(), info.uid);
    }
    if (info.encapsulated()) {
      EXPECT_TRUE(DcmXfer(info.dcmtk_xfer).isEncapsulated()) << info.name;
    }
  }
}

TEST(SyntaxTableTest, EveryCodecEntryComesFromTheOneTable) {
  for (const SyntaxInfo& info : AllSyntaxes()) {
    const TransferSyntax* t = FindTransferSyntax(info.uid);
    ASSERT_NE(t, nullptr) << info.uid;
    EXPECT_EQ(info.uid.data(), t->uid.data()) << "a copy of the UID, not the table's";
    EXPECT_EQ(info.name, t->name);
    EXPECT_EQ(info.lossiness, t->lossiness);
    EXPECT_EQ(info.encapsulated(), t->encapsulated()) << info.name;
    EXPECT_EQ(SyntaxDisplayName(info.uid), SyntaxName(info.uid));
  }
}

TEST(SyntaxTableTest, EncodeAndDecodeSets) {
  for (const char* uid : {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.1.99",
                          "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90",
                          "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202",
                          "1.2.840.10008.1.2.4.203"}) {
    EXPECT_TRUE(Transcoder::CanEncode(uid)) << uid;
    EXPECT_TRUE(Transcoder::CanDecode(uid)) << uid;
  }
  for (const char* uid : {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57",
                          "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.2"}) {
    EXPECT_FALSE(Transcoder::CanEncode(uid)) << uid;
    EXPECT_TRUE(Transcoder::CanDecode(uid)) << uid;
  }
  EXPECT_FALSE(Transcoder::CanDecode("1.2.840.10008.1.2.4.100"));
  EXPECT_FALSE(Transcoder::CanEncode(""));
}

TEST(ChooseSyntaxTest, PrefersStoredThenUncompressedThenPeerOrder) {
  const std::string jls(ts::kJpegLsLossless), j2k(ts::kJ2kLossless), ht(ts::kHtj2kLossless);
  const std::string ele(ts::kExplicitLE), ile(ts::kImplicitLE);
  EXPECT_EQ(*Transcoder::ChooseSyntax(ht, {ele, ile, ht}), ht);
  EXPECT_EQ(*Transcoder::ChooseSyntax(ht + '\0', {ele, ht + ' '}), ht);
  EXPECT_EQ(*Transcoder::ChooseSyntax(ht, {ile, jls, ele}), ele);
  EXPECT_EQ(*Transcoder::ChooseSyntax(ht, {jls, ile}), ile);
  EXPECT_EQ(*Transcoder::ChooseSyntax(ht, {j2k, jls}), j2k);
  EXPECT_EQ(*Transcoder::ChooseSyntax(ele, {"1.2.840.10008.1.2.4.50", jls, j2k}), jls);
  EXPECT_EQ(*Transcoder::ChooseSyntax(ile, {ele}), ele);
}

TEST(ChooseSyntaxTest, LossyAndUnreachable) {
  const std::string baseline(ts::kJpegBaseline), jls(ts::kJpegLsLossless), ele(ts::kExplicitLE);
  // A lossy image is only ever decoded, never recompressed.
  EXPECT_EQ(*Transcoder::ChooseSyntax(baseline, {jls, ele}), ele);
  EXPECT_EQ(Transcoder::ChooseSyntax(baseline, {jls}).status().code(), Status::Code::kNotFound);
  // .91 may be either: unknown counts as lossy, the caller can say otherwise.
  const std::string j2k(ts::kJ2k);
  EXPECT_FALSE(Transcoder::ChooseSyntax(j2k, {jls}).ok());
  EXPECT_EQ(*Transcoder::ChooseSyntax(j2k, {jls}, /*stored_is_lossy=*/false), jls);
  EXPECT_FALSE(Transcoder::ChooseSyntax(std::string(ts::kJpegLsLossless), {jls + "1"}, true).ok());
  // Nothing we can produce, nothing we can read.
  EXPECT_FALSE(Transcoder::ChooseSyntax(ele, {baseline, std::string(ts::kRleLossless)}).ok());
  EXPECT_FALSE(Transcoder::ChooseSyntax("1.2.840.10008.1.2.4.100", {ele}).ok());
  EXPECT_EQ(*Transcoder::ChooseSyntax("1.2.840.10008.1.2.4.100", {ele, "1.2.840.10008.1.2.4.100"}),
            "1.2.840.10008.1.2.4.100");
  EXPECT_FALSE(Transcoder::ChooseSyntax(ele, {}).ok());
}

}  // namespace
}  // namespace strata::codec
