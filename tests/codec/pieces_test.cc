// Unit tests of the building blocks: native sample access, encapsulation, the frame codecs
// and the JPEG-LS header reader.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <gtest/gtest.h>

#include <random>

#include "codec/encapsulation.h"
#include "codec/htj2k_codec.h"
#include "codec/j2k_codec.h"
#include "codec/jpegls_header.h"
#include "codec/native_samples.h"
#include "codec/wavelet_levels.h"

namespace strata::codec {
namespace {

ImageInfo Info(uint32_t rows, uint32_t cols, uint32_t alloc, uint32_t stored, bool sgn, uint32_t spp = 1,
               uint32_t planar = 0) {
  ImageInfo i;
  i.rows = rows;
  i.columns = cols;
  i.bits_allocated = alloc;
  i.bits_stored = stored;
  i.high_bit = stored - 1;
  i.pixel_representation = sgn ? 1 : 0;
  i.samples_per_pixel = spp;
  i.planar_configuration = planar;
  i.photometric = spp == 3 ? "RGB" : "MONOCHROME2";
  return i;
}

// Canonical random frame: values within Bits Stored, stored as the data set would hold them.
std::vector<uint8_t> RandomFrame(const ImageInfo& info, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> frame(info.frame_bytes());
  std::vector<int32_t> row(info.columns);
  const int64_t lo = info.is_signed() ? -(int64_t{1} << (info.bits_stored - 1)) : 0;
  const int64_t hi = info.is_signed() ? (int64_t{1} << (info.bits_stored - 1)) - 1 : (int64_t{1} << info.bits_stored) - 1;
  for (uint32_t c = 0; c < info.samples_per_pixel; ++c) {
    for (uint32_t y = 0; y < info.rows; ++y) {
      for (auto& v : row) v = static_cast<int32_t>(std::uniform_int_distribution<int64_t>(lo, hi)(rng));
      StoreRow(info, row.data(), c, y, frame.data());
    }
  }
  return frame;
}

TEST(NativeSamplesTest, SignedTwelveBitsInSixteen) {
  ImageInfo info = Info(1, 3, 16, 12, true);
  const uint8_t frame[6] = {0xFF, 0xFF, 0xFF, 0x07, 0x00, 0xF8};  // -1, 2047, -2048
  int32_t row[3];
  LoadRow(info, frame, 0, 0, row);
  EXPECT_EQ(row[0], -1);
  EXPECT_EQ(row[1], 2047);
  EXPECT_EQ(row[2], -2048);
  uint8_t back[6] = {};
  StoreRow(info, row, 0, 0, back);
  EXPECT_EQ(0, std::memcmp(back, frame, 6));
  EXPECT_TRUE(CheckStoredBits(info, frame).ok());
  const uint8_t stray[6] = {0xFF, 0x0F, 0xFF, 0x07, 0x00, 0xF8};  // 0x0FFF: not sign-extended
  Status st = CheckStoredBits(info, stray);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("sample 0"), std::string::npos);
}

TEST(NativeSamplesTest, UnsignedMasksAndDetectsHighBits) {
  ImageInfo info = Info(1, 2, 16, 12, false);
  const uint8_t ok[4] = {0xFF, 0x0F, 0x00, 0x00};
  const uint8_t bad[4] = {0xFF, 0x0F, 0x00, 0x10};
  EXPECT_TRUE(CheckStoredBits(info, ok).ok());
  EXPECT_FALSE(CheckStoredBits(info, bad).ok());
  ImageInfo eight = Info(1, 2, 8, 6, false);
  const uint8_t b8[2] = {0x3F, 0x40};
  EXPECT_FALSE(CheckStoredBits(eight, b8).ok());
}

TEST(NativeSamplesTest, PlanarLayoutsAddressTheSameSamples) {
  ImageInfo interleaved = Info(2, 3, 8, 8, false, 3, 0);
  ImageInfo planar = Info(2, 3, 8, 8, false, 3, 1);
  std::vector<uint8_t> a = RandomFrame(interleaved, 7), b(a.size());
  std::vector<int32_t> row(3);
  for (uint32_t c = 0; c < 3; ++c) {
    for (uint32_t y = 0; y < 2; ++y) {
      LoadRow(interleaved, a.data(), c, y, row.data());
      StoreRow(planar, row.data(), c, y, b.data());
    }
  }
  // planar: RRRRRR GGGGGG BBBBBB
  for (uint32_t p = 0; p < 6; ++p) {
    for (uint32_t c = 0; c < 3; ++c) EXPECT_EQ(b[c * 6 + p], a[p * 3 + c]);
  }
}

TEST(NativeSamplesTest, ReinterpretRowFollowsTheDataSet) {
  ImageInfo info = Info(1, 2, 16, 13, true);
  int32_t row[2] = {0x1830, 0x0830};  // unsigned 13-bit codestream values
  ReinterpretRow(info, row);
  EXPECT_EQ(row[0], 0x1830 - 0x2000);
  EXPECT_EQ(row[1], 0x0830);
}

TEST(WaveletLevelsTest, NeverBelowOneSample) {
  EXPECT_EQ(DecompositionLevelsFor(1, 1, 5), 0u);
  EXPECT_EQ(DecompositionLevelsFor(2, 300, 5), 1u);
  EXPECT_EQ(DecompositionLevelsFor(7, 5, 5), 2u);
  EXPECT_EQ(DecompositionLevelsFor(511, 257, 5), 5u);
  EXPECT_EQ(DecompositionLevelsFor(32, 32, 5), 5u);
  EXPECT_EQ(DecompositionLevelsFor(31, 64, 5), 4u);
}

// ---- encapsulation ----

TEST(EncapsulationTest, PutThenExtractKeepsFramesAndOffsets) {
  DcmPixelData pd(DCM_PixelData);
  std::vector<std::string> frames = {std::string("\xFF\x4F\xFF\x51" "abc", 7), std::string("\xFF\x4F\xFF\x51", 4),
                                     std::string(1001, 'x')};
  ASSERT_TRUE(PutEncapsulatedFrames(pd, EXS_JPEG2000LosslessOnly, frames).ok());
  DcmPixelSequence* seq = nullptr;
  ASSERT_TRUE(pd.getEncapsulatedRepresentation(EXS_JPEG2000LosslessOnly, nullptr, seq).good());
  ASSERT_EQ(seq->card(), 4u);
  DcmPixelItem* bot = nullptr;
  seq->getItem(bot, 0);
  Uint8* offsets = nullptr;
  ASSERT_EQ(bot->getLength(), 12u);
  bot->getUint8Array(offsets);
  EXPECT_EQ(offsets[0], 0);
  EXPECT_EQ(offsets[4], 8 + 8);  // 7 bytes padded to 8, plus the item header
  EXPECT_EQ(offsets[8], 16 + 12);
  Result<std::vector<std::string>> back = ExtractFrames(*seq, 3);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 3u);
  EXPECT_EQ((*back)[0], frames[0] + std::string(1, '\0'));  // the padding byte stays
  EXPECT_EQ((*back)[1], frames[1]);
  EXPECT_EQ((*back)[2], frames[2] + std::string(1, '\0'));
}

// A pixel sequence with an empty Basic Offset Table and the given fragments.
std::unique_ptr<DcmPixelSequence> Sequence(const std::vector<std::string>& fragments) {
  auto seq = std::make_unique<DcmPixelSequence>(DCM_PixelSequenceTag);
  seq->insert(new DcmPixelItem(DcmTag(DCM_Item, EVR_OB)));
  for (const std::string& f : fragments) {
    auto* item = new DcmPixelItem(DcmTag(DCM_Item, EVR_OB));
    item->putUint8Array(reinterpret_cast<const Uint8*>(f.data()), static_cast<unsigned long>(f.size()));
    seq->insert(item);
  }
  return seq;
}

TEST(EncapsulationTest, FindsFramesWithoutOffsetTable) {
  const std::string soc("\xFF\x4F\xFF\x51", 4);
  auto seq = Sequence({soc + "aa", "bb", soc + "cc", soc + "dd", "ee"});
  Result<std::vector<std::string>> frames = ExtractFrames(*seq, 3, {}, IsJ2kFrameStart);
  ASSERT_TRUE(frames.ok()) << frames.status().ToString();
  EXPECT_EQ((*frames)[0], soc + "aabb");
  EXPECT_EQ((*frames)[1], soc + "cc");
  EXPECT_EQ((*frames)[2], soc + "ddee");
  // Without a start test the mapping is unknown.
  EXPECT_EQ(ExtractFrames(*seq, 3).status().code(), Status::Code::kCorruption);
  // With the Extended Offset Table it is known (positions of fragments 0, 2 and 3).
  const uint64_t eot[3] = {0, 2 * 8 + 6 + 2, 3 * 8 + 6 + 2 + 6};
  frames = ExtractFrames(*seq, 3, eot);
  ASSERT_TRUE(frames.ok()) << frames.status().ToString();
  EXPECT_EQ((*frames)[2], soc + "ddee");
  // One fragment per frame needs nothing; a single frame takes every fragment.
  auto one_each = Sequence({"aa", "bb"});
  EXPECT_EQ((*ExtractFrames(*one_each, 2))[1], "bb");
  EXPECT_EQ((*ExtractFrames(*seq, 1))[0], soc + "aabb" + soc + "cc" + soc + "ddee");
  // Fewer frame starts than frames.
  EXPECT_FALSE(ExtractFrames(*seq, 4, {}, IsJ2kFrameStart).ok());
  auto empty = Sequence({});
  EXPECT_EQ(ExtractFrames(*empty, 1).status().code(), Status::Code::kCorruption);
}

// ---- frame codecs ----

TEST(FrameCodecTest, J2kAndHtj2kRoundTripEdgeLayouts) {
  for (const ImageInfo& info : {Info(1, 1, 16, 16, true), Info(3, 2, 8, 1, false), Info(9, 13, 16, 15, false),
                                Info(5, 7, 16, 16, false, 3, 1), Info(64, 1, 8, 8, true, 3, 0)}) {
    const std::vector<uint8_t> frame = RandomFrame(info, info.rows * 100 + info.bits_stored);
    for (int codec = 0; codec < 2; ++codec) {
      Result<std::string> cs = codec == 0 ? EncodeJ2kFrame(info, frame, {}) : EncodeHtj2kFrame(info, frame, {});
      ASSERT_TRUE(cs.ok()) << cs.status().ToString();
      std::vector<uint8_t> out(frame.size());
      Status st = codec == 0 ? DecodeJ2kFrame(info, *cs, out) : DecodeHtj2kFrame(info, *cs, out);
      ASSERT_TRUE(st.ok()) << st.ToString();
      EXPECT_EQ(out, frame) << "codec " << codec << " " << info.rows << "x" << info.columns;
    }
  }
}

TEST(FrameCodecTest, OpenJpegReadsOurHtj2kAndTheReverse) {
  ImageInfo info = Info(40, 50, 16, 12, true);
  const std::vector<uint8_t> frame = RandomFrame(info, 3);
  Result<std::string> ht = EncodeHtj2kFrame(info, frame, {});
  ASSERT_TRUE(ht.ok());
  std::vector<uint8_t> out(frame.size());
  ASSERT_TRUE(DecodeJ2kFrame(info, *ht, out).ok());
  EXPECT_EQ(out, frame);
  Result<std::string> j2k = EncodeJ2kFrame(info, frame, {});
  ASSERT_TRUE(j2k.ok());
  std::fill(out.begin(), out.end(), 0);
  ASSERT_TRUE(DecodeHtj2kFrame(info, *j2k, out).ok());  // OpenJPH reads Part 1 codestreams
  EXPECT_EQ(out, frame);
}

// OpenJPH 0.9 misdecodes codestreams with more levels than the image supports (see
// htj2k_codec.cc); other encoders write such codestreams, so the decoder must cope.
TEST(FrameCodecTest, Htj2kWithTooManyLevelsStillDecodes) {
  for (const ImageInfo& info : {Info(5, 7, 8, 8, false), Info(2, 2, 16, 16, true), Info(16, 16, 16, 12, false),
                                Info(3, 3, 8, 8, false, 3, 0)}) {
    const std::vector<uint8_t> frame = RandomFrame(info, 11);
    Htj2kEncodeParams p;
    p.force_decomposition_levels = 5;
    Result<std::string> cs = EncodeHtj2kFrame(info, frame, p);
    ASSERT_TRUE(cs.ok()) << cs.status().ToString();
    std::vector<uint8_t> out(frame.size());
    ASSERT_TRUE(DecodeHtj2kFrame(info, *cs, out).ok());
    EXPECT_EQ(out, frame) << info.rows << "x" << info.columns;
  }
}

TEST(FrameCodecTest, MismatchedCodestreamsAreCorruption) {
  ImageInfo info = Info(8, 8, 16, 16, false);
  const std::vector<uint8_t> frame = RandomFrame(info, 5);
  std::vector<uint8_t> out(info.frame_bytes() * 3);
  for (int codec = 0; codec < 2; ++codec) {
    Result<std::string> cs = codec == 0 ? EncodeJ2kFrame(info, frame, {}) : EncodeHtj2kFrame(info, frame, {});
    ASSERT_TRUE(cs.ok());
    auto decode = codec == 0 ? DecodeJ2kFrame : DecodeHtj2kFrame;
    EXPECT_EQ(decode(Info(8, 9, 16, 16, false), *cs, out).code(), Status::Code::kCorruption);
    EXPECT_EQ(decode(Info(8, 8, 16, 16, false, 3), *cs, out).code(), Status::Code::kCorruption);
    EXPECT_EQ(decode(Info(8, 8, 8, 8, false), *cs, out).code(), Status::Code::kCorruption);  // 16-bit precision
    EXPECT_EQ(decode(info, "not a codestream", out).code(), Status::Code::kCorruption);
    EXPECT_EQ(decode(info, std::string_view(*cs).substr(0, 60), out).code(), Status::Code::kCorruption);
  }
}

TEST(JpegLsHeaderTest, ReadsNear) {
  // SOI, SOF55 (P=8, 1x1, 1 component), SOS (1 component, NEAR=3, ILV=0, Al/Ah 0), data, EOI.
  const std::string near3("\xFF\xD8\xFF\xF7\x00\x0B\x08\x00\x01\x00\x01\x01\x01\x11\x00"
                          "\xFF\xDA\x00\x08\x01\x01\x00\x03\x00\x00\x12\x7F\xFF\x00\xFF\xD9",
                          31);
  Result<int> n = JpegLsMaxNear(near3);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 3);
  std::string near0 = near3;
  near0[22] = 0;
  EXPECT_EQ(*JpegLsMaxNear(near0), 0);
  EXPECT_FALSE(JpegLsMaxNear("\xFF\xD8\xFF\xD9").ok());
  EXPECT_FALSE(JpegLsMaxNear("garbage").ok());
}

}  // namespace
}  // namespace strata::codec
