// Transcoder on synthetic images: every codec, every pixel layout, bit-exact round trips,
// the attributes a transcode must keep or change, and the files it must refuse.
#include "codec/transcoder.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "codec/part10_io.h"
#include "codec/synthetic_image.h"
#include "codec_test_util.h"

namespace strata::codec {
namespace {

using testing::DecodedSamples;
using testing::GetString;
using testing::MetaSyntax;
using testing::NativeSamples;
using testing::PixelItems;
using testing::PrintedAttributes;

const std::string kExplicit(ts::kExplicitLE);
const std::string kImplicit(ts::kImplicitLE);

struct Layout {
  const char* name;
  SyntheticSpec spec;
};

SyntheticSpec Spec(uint32_t rows, uint32_t cols, uint32_t alloc, uint32_t stored, bool sgn, const char* pi,
                   Pattern pattern, uint32_t frames = 1, uint32_t spp = 1, uint32_t planar = 0) {
  SyntheticSpec s;
  s.rows = rows;
  s.columns = cols;
  s.bits_allocated = alloc;
  s.bits_stored = stored;
  s.is_signed = sgn;
  s.photometric = pi;
  s.pattern = pattern;
  s.frames = frames;
  s.samples_per_pixel = spp;
  s.planar_configuration = planar;
  s.seed = rows * 7919 + cols * 31 + alloc * 5 + stored + (sgn ? 1000 : 0) + frames * 17 + spp * 3 + planar;
  return s;
}

const Layout kLayouts[] = {
    {"Mono8Random", Spec(64, 64, 8, 8, false, "MONOCHROME2", Pattern::kRandom)},
    {"Mono8Smooth511x257", Spec(257, 511, 8, 8, false, "MONOCHROME2", Pattern::kSmooth)},
    {"Mono8Stored6", Spec(40, 24, 8, 6, false, "MONOCHROME2", Pattern::kRandom)},
    {"Mono8Signed", Spec(31, 33, 8, 8, true, "MONOCHROME2", Pattern::kRandom)},
    {"Mono12UnsignedRandom", Spec(48, 50, 16, 12, false, "MONOCHROME2", Pattern::kRandom)},
    {"Mono12SignedRandom", Spec(50, 48, 16, 12, true, "MONOCHROME2", Pattern::kRandom)},
    {"Mono12SignedSmooth", Spec(64, 80, 16, 12, true, "MONOCHROME2", Pattern::kSmooth)},
    {"Mono10Signed", Spec(20, 30, 16, 10, true, "MONOCHROME2", Pattern::kRandom)},
    {"Mono16UnsignedRandom", Spec(32, 40, 16, 16, false, "MONOCHROME2", Pattern::kRandom)},
    {"Mono16SignedRandom", Spec(40, 32, 16, 16, true, "MONOCHROME2", Pattern::kRandom)},
    {"Mono16SignedSmooth511x257", Spec(257, 511, 16, 16, true, "MONOCHROME2", Pattern::kSmooth)},
    {"Mono16Stored8", Spec(16, 16, 16, 8, false, "MONOCHROME2", Pattern::kSmooth)},
    {"Monochrome1", Spec(64, 64, 16, 12, false, "MONOCHROME1", Pattern::kSmooth)},
    {"OnePixel8", Spec(1, 1, 8, 8, false, "MONOCHROME2", Pattern::kRandom)},
    {"OnePixel16Signed", Spec(1, 1, 16, 16, true, "MONOCHROME2", Pattern::kRandom)},
    {"OneRow", Spec(1, 37, 16, 12, false, "MONOCHROME2", Pattern::kRandom)},
    {"OneColumn", Spec(37, 1, 8, 8, false, "MONOCHROME2", Pattern::kRandom)},
    {"Tiny3x2", Spec(2, 3, 16, 16, false, "MONOCHROME2", Pattern::kRandom)},
    {"MultiFrame12", Spec(65, 63, 16, 12, false, "MONOCHROME2", Pattern::kSmooth, 5)},
    {"MultiFrame8Random", Spec(17, 19, 8, 8, false, "MONOCHROME2", Pattern::kRandom, 3)},
    {"Palette8", Spec(30, 40, 8, 8, false, "PALETTE COLOR", Pattern::kSmooth)},
    {"Rgb8Interleaved", Spec(48, 64, 8, 8, false, "RGB", Pattern::kRandom, 1, 3, 0)},
    {"Rgb8Planar", Spec(17, 33, 8, 8, false, "RGB", Pattern::kSmooth, 1, 3, 1)},
    {"Rgb8PlanarRandom", Spec(20, 21, 8, 8, false, "RGB", Pattern::kRandom, 1, 3, 1)},
    {"Rgb16Smooth", Spec(40, 30, 16, 16, false, "RGB", Pattern::kSmooth, 1, 3, 0)},
    {"Rgb8MultiFramePlanar", Spec(25, 27, 8, 8, false, "RGB", Pattern::kSmooth, 3, 3, 1)},
    {"Rgb8OnePixel", Spec(1, 1, 8, 8, false, "RGB", Pattern::kRandom, 1, 3, 0)},
    {"YbrFull8", Spec(32, 48, 8, 8, false, "YBR_FULL", Pattern::kSmooth, 1, 3, 0)},
};

const std::string_view kTargets[] = {ts::kJpegLsLossless, ts::kJpegLsNearLossless, ts::kJ2kLossless, ts::kJ2k,
                                     ts::kHtj2kLossless,  ts::kHtj2kLosslessRpcl,   ts::kHtj2k};

using RoundTripParam = std::tuple<int, int>;  // (layout index, target index)

class RoundTripTest : public ::testing::TestWithParam<RoundTripParam> {};

bool IsJ2kFamily(std::string_view uid) {
  const SyntaxInfo* s = FindSyntax(uid);
  return s->engine == Engine::kOpenJpeg || s->engine == Engine::kOpenJph;
}

TEST_P(RoundTripTest, DecodeOfEncodeIsBitExact) {
  const Layout& layout = kLayouts[std::get<0>(GetParam())];
  const std::string target(kTargets[std::get<1>(GetParam())]);
  const SyntheticSpec& spec = layout.spec;
  Transcoder t;
  Result<std::string> original = MakeSyntheticPart10(spec);
  ASSERT_TRUE(original.ok()) << original.status().ToString();

  Result<std::string> compressed = t.Transcode(*original, target);
  ASSERT_TRUE(compressed.ok()) << compressed.status().ToString();
  EXPECT_EQ(MetaSyntax(*compressed), target);

  // One fragment per frame, after a Basic Offset Table that points at each of them.
  Result<std::vector<std::string>> items = PixelItems(*compressed);
  ASSERT_TRUE(items.ok()) << items.status().ToString();
  ASSERT_EQ(items->size(), spec.frames + 1);
  ASSERT_EQ((*items)[0].size(), 4u * spec.frames);
  uint32_t expected_offset = 0;
  for (uint32_t f = 0; f < spec.frames; ++f) {
    const auto* p = reinterpret_cast<const uint8_t*>((*items)[0].data() + 4 * f);
    EXPECT_EQ(uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24),
              expected_offset);
    expected_offset += 8 + static_cast<uint32_t>((*items)[f + 1].size());
    EXPECT_EQ((*items)[f + 1].size() % 2, 0u);
  }

  // Lossless: never marked lossy. Photometric per PS3.5 8.2.4 for the JPEG 2000 family.
  EXPECT_EQ(GetString(*compressed, 0x0028, 0x2110), "");
  const std::string pi = GetString(*compressed, 0x0028, 0x0004);
  if (spec.photometric == "RGB" && IsJ2kFamily(target)) {
    EXPECT_EQ(pi, "YBR_RCT");
    EXPECT_EQ(GetString(*compressed, 0x0028, 0x0006), "0");
  } else {
    EXPECT_EQ(pi, spec.photometric);
  }

  // Everything else kept.
  auto before = PrintedAttributes(*original);
  auto after = PrintedAttributes(*compressed);
  ASSERT_TRUE(before.ok() && after.ok());
  for (uint32_t tag : {0x00280004u, 0x00280006u}) {
    before->erase(tag);
    after->erase(tag);
  }
  EXPECT_EQ(*before, *after);

  for (const std::string& native : {kExplicit, kImplicit}) {
    Result<std::string> back = t.Transcode(*compressed, native);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(MetaSyntax(*back), native);
    auto a = NativeSamples(*original);
    auto b = NativeSamples(*back);
    ASSERT_TRUE(a.ok() && b.ok()) << b.status().ToString();
    ASSERT_EQ(a->raw.size(), b->raw.size());
    EXPECT_TRUE(a->raw == b->raw) << "pixel values differ after " << SyntaxDisplayName(target);
    EXPECT_EQ(b->info.photometric, spec.photometric);
    EXPECT_EQ(GetString(*back, 0x0028, 0x2110), "");
  }
}

std::string RoundTripName(const ::testing::TestParamInfo<RoundTripParam>& info) {
  std::string target(SyntaxDisplayName(kTargets[std::get<1>(info.param)]));
  std::string clean;
  for (char c : target) {
    if (std::isalnum(static_cast<unsigned char>(c))) clean += c;
  }
  return std::string(kLayouts[std::get<0>(info.param)].name) + "_" + clean;
}

INSTANTIATE_TEST_SUITE_P(AllLayoutsAllCodecs, RoundTripTest,
                         ::testing::Combine(::testing::Range(0, int(std::size(kLayouts))),
                                            ::testing::Range(0, int(std::size(kTargets)))),
                         RoundTripName);

// ---------------------------------------------------------------------------------------

TEST(TranscoderTest, SameSyntaxReturnsInputUnchanged) {
  Transcoder t;
  Result<std::string> original = MakeSyntheticPart10(Spec(8, 8, 16, 12, false, "MONOCHROME2", Pattern::kRandom));
  ASSERT_TRUE(original.ok());
  Result<std::string> out = t.Transcode(*original, kExplicit);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, *original);
}

TEST(TranscoderTest, ChainsBetweenCompressedSyntaxes) {
  Transcoder t;
  Result<std::string> original = MakeSyntheticPart10(Spec(45, 47, 16, 12, true, "MONOCHROME2", Pattern::kSmooth, 2));
  ASSERT_TRUE(original.ok());
  std::string current = *original;
  for (std::string_view target : {ts::kJpegLsLossless, ts::kHtj2kLossless, ts::kJ2kLossless, ts::kJpegLsLossless,
                                  ts::kHtj2kLosslessRpcl, ts::kExplicitLE}) {
    Result<std::string> next = t.Transcode(current, std::string(target));
    ASSERT_TRUE(next.ok()) << SyntaxDisplayName(target) << ": " << next.status().ToString();
    current = std::move(next).value();
  }
  EXPECT_EQ(NativeSamples(current)->raw, NativeSamples(*original)->raw);
}

// The VR written for native Pixel Data in an explicit-VR file ("" when there is none).
std::string PixelDataVr(const std::string& part10) {
  static const std::string kTag("\xE0\x7F\x10\x00", 4);
  const size_t at = part10.rfind(kTag);
  return at == std::string::npos || at + 6 > part10.size() ? std::string() : part10.substr(at + 4, 2);
}

// PS3.5 8.2: native pixel data of more than 8 bits allocated is OW, whatever codec decoded it.
TEST(TranscoderTest, DecodedPixelDataIsOwAbove8Bits) {
  Transcoder t;
  for (uint32_t bits : {16u, 8u}) {
    Result<std::string> original =
        MakeSyntheticPart10(Spec(16, 16, bits, bits == 16 ? 12 : 8, false, "MONOCHROME2", Pattern::kSmooth));
    ASSERT_TRUE(original.ok());
    for (std::string_view via : {ts::kJ2kLossless, ts::kHtj2kLossless, ts::kJpegLsLossless}) {
      Result<std::string> compressed = t.Transcode(*original, std::string(via));
      ASSERT_TRUE(compressed.ok()) << compressed.status().ToString();
      Result<std::string> native = t.Transcode(*compressed, kExplicit);
      ASSERT_TRUE(native.ok()) << native.status().ToString();
      const std::string vr = PixelDataVr(*native);
      if (bits == 16) EXPECT_EQ(vr, "OW") << SyntaxDisplayName(via);
      else EXPECT_TRUE(vr == "OB" || vr == "OW") << SyntaxDisplayName(via) << ": " << vr;  // both allowed at 8
      EXPECT_EQ(NativeSamples(*native)->raw, NativeSamples(*original)->raw);
    }
  }
}

TEST(TranscoderTest, DeflatedTargetRoundTrips) {
  Transcoder t;
  Result<std::string> original = MakeSyntheticPart10(Spec(64, 64, 16, 12, false, "MONOCHROME2", Pattern::kSmooth));
  Result<std::string> deflated = t.Transcode(*original, std::string(ts::kDeflatedLE));
  ASSERT_TRUE(deflated.ok()) << deflated.status().ToString();
  EXPECT_LT(deflated->size(), original->size());
  Result<std::string> compressed = t.Transcode(*deflated, std::string(ts::kHtj2kLossless));
  ASSERT_TRUE(compressed.ok()) << compressed.status().ToString();
  EXPECT_EQ(DecodedSamples(*compressed)->raw, NativeSamples(*original)->raw);
}

TEST(TranscoderTest, RgbWithoutColorTransformStaysRgb) {
  Transcoder t;
  Result<std::string> original = MakeSyntheticPart10(Spec(20, 30, 8, 8, false, "RGB", Pattern::kSmooth, 1, 3, 1));
  TranscodeOptions options;
  options.color_transform = false;
  for (std::string_view target : {ts::kJ2kLossless, ts::kHtj2kLossless}) {
    Result<std::string> compressed = t.Transcode(*original, std::string(target), options);
    ASSERT_TRUE(compressed.ok()) << compressed.status().ToString();
    EXPECT_EQ(GetString(*compressed, 0x0028, 0x0004), "RGB");
    EXPECT_EQ(GetString(*compressed, 0x0028, 0x0006), "0");
    EXPECT_EQ(DecodedSamples(*compressed)->raw, NativeSamples(*original)->raw);
  }
}

TEST(TranscoderTest, ColorTransformCompressesRgbBetter) {
  Transcoder t;
  Result<std::string> original = MakeSyntheticPart10(Spec(128, 128, 8, 8, false, "RGB", Pattern::kSmooth, 1, 3, 0));
  TranscodeOptions plain;
  plain.color_transform = false;
  for (std::string_view target : {ts::kJ2kLossless, ts::kHtj2kLossless}) {
    Result<std::string> rct = t.Transcode(*original, std::string(target));
    Result<std::string> rgb = t.Transcode(*original, std::string(target), plain);
    ASSERT_TRUE(rct.ok() && rgb.ok());
    EXPECT_LT(rct->size(), rgb->size()) << SyntaxDisplayName(target);
  }
}

// ---- what must be refused --------------------------------------------------------------

void ExpectNotCompressible(const std::string& part10, const std::string& why_fragment) {
  Transcoder t;
  for (std::string_view target : {ts::kJpegLsLossless, ts::kJ2kLossless, ts::kHtj2kLossless}) {
    Result<std::string> out = t.Transcode(part10, std::string(target));
    ASSERT_FALSE(out.ok()) << SyntaxDisplayName(target);
    EXPECT_TRUE(IsNotCompressible(out.status())) << out.status().ToString();
    EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(out.status().message().find(why_fragment), std::string::npos) << out.status().message();
  }
}

std::string Rewrite(DcmFileFormat& file) { return *WritePart10(file, *FindSyntax(ts::kExplicitLE)); }

TEST(NotCompressibleTest, NoPixelData) {
  auto file = MakeSyntheticImage(Spec(8, 8, 8, 8, false, "MONOCHROME2", Pattern::kRandom));
  file->getDataset()->findAndDeleteElement(DCM_PixelData);
  ExpectNotCompressible(Rewrite(*file), "no pixel data");
  // ... but a native target is fine.
  Transcoder t;
  EXPECT_TRUE(t.Transcode(Rewrite(*file), kImplicit).ok());
}

TEST(NotCompressibleTest, FloatPixelData) {
  auto file = MakeSyntheticImage(Spec(4, 4, 8, 8, false, "MONOCHROME2", Pattern::kRandom));
  DcmDataset* ds = file->getDataset();
  ds->findAndDeleteElement(DCM_PixelData);
  const Float32 values[16] = {0.5f};
  ASSERT_TRUE(ds->putAndInsertFloat32Array(DCM_FloatPixelData, values, 16).good());
  ds->putAndInsertUint16(DCM_BitsAllocated, 32);
  ExpectNotCompressible(Rewrite(*file), "float pixel data");
}

TEST(NotCompressibleTest, AlreadyLossy) {
  auto file = MakeSyntheticImage(Spec(8, 8, 8, 8, false, "MONOCHROME2", Pattern::kRandom));
  file->getDataset()->putAndInsertString(DCM_LossyImageCompression, "01");
  ExpectNotCompressible(Rewrite(*file), "already lossy");
}

TEST(NotCompressibleTest, BitsAboveHighBit) {
  auto file = MakeSyntheticImage(Spec(8, 8, 16, 12, false, "MONOCHROME2", Pattern::kRandom));
  Uint16* words = nullptr;
  DcmElement* e = nullptr;
  ASSERT_TRUE(file->getDataset()->findAndGetElement(DCM_PixelData, e).good());
  ASSERT_TRUE(e->getUint16Array(words).good());
  words[5] |= 0x8000;  // an overlay bit, say
  ExpectNotCompressible(Rewrite(*file), "above High Bit");
}

TEST(NotCompressibleTest, UnsupportedLayouts) {
  {
    auto file = MakeSyntheticImage(Spec(8, 8, 8, 8, false, "YBR_FULL_422", Pattern::kRandom, 1, 3));
    ExpectNotCompressible(Rewrite(*file), "YBR_FULL_422");
  }
  {
    auto file = MakeSyntheticImage(Spec(8, 8, 16, 12, false, "MONOCHROME2", Pattern::kRandom));
    file->getDataset()->putAndInsertUint16(DCM_HighBit, 15);
    ExpectNotCompressible(Rewrite(*file), "High Bit");
  }
  {
    auto file = MakeSyntheticImage(Spec(8, 8, 8, 8, false, "MONOCHROME2", Pattern::kRandom));
    file->getDataset()->putAndInsertUint16(DCM_BitsAllocated, 32);
    file->getDataset()->putAndInsertUint16(DCM_BitsStored, 32);
    file->getDataset()->putAndInsertUint16(DCM_HighBit, 31);
    file->getDataset()->putAndInsertUint16(DCM_Rows, 4);
    ExpectNotCompressible(Rewrite(*file), "Bits Allocated 32");
  }
  {
    auto file = MakeSyntheticImage(Spec(8, 8, 8, 8, false, "MONOCHROME2", Pattern::kRandom));
    file->getDataset()->putAndInsertUint16(DCM_Rows, 9);  // pixel data too short for 9 rows
    ExpectNotCompressible(Rewrite(*file), "Pixel Data holds");
  }
}

TEST(NotCompressibleTest, LossySourceSyntaxIsNotRecompressedButDecodes) {
  const std::string jpeg = testing::ReadFileBytes(std::string(testing::kPydicomDir) + "/SC_rgb_jpeg_dcmtk.dcm");
  ASSERT_FALSE(jpeg.empty());
  ExpectNotCompressible(jpeg, "already lossy-compressed (JPEG baseline)");
  Transcoder t;
  EXPECT_TRUE(t.Transcode(jpeg, kExplicit).ok());
}

TEST(LossyTest, DecodedLossyJpegIsMarkedLossy) {
  // A JPEG baseline file without the Lossy Image Compression trio (senders forget it).
  const std::string jpeg = testing::ReadFileBytes(std::string(testing::kPydicomDir) + "/SC_rgb_jpeg_dcmtk.dcm");
  Result<Part10File> file = ReadPart10(jpeg);
  ASSERT_TRUE(file.ok());
  DcmDataset& ds = *file->file->getDataset();
  for (const DcmTagKey& tag : {DCM_LossyImageCompression, DCM_LossyImageCompressionRatio,
                               DCM_LossyImageCompressionMethod}) {
    ds.findAndDeleteElement(tag);
  }
  Result<std::string> unmarked = WritePart10(*file->file, *file->syntax);
  ASSERT_TRUE(unmarked.ok());
  ASSERT_EQ(GetString(*unmarked, 0x0028, 0x2110), "");
  Transcoder t;
  Result<std::string> native = t.Transcode(*unmarked, kExplicit);
  ASSERT_TRUE(native.ok()) << native.status().ToString();
  EXPECT_EQ(GetString(*native, 0x0028, 0x2110), "01");
  EXPECT_EQ(GetString(*native, 0x0028, 0x2114), "ISO_10918_1");
  EXPECT_GT(std::stod(GetString(*native, 0x0028, 0x2112)), 1.0);
  // And the lossless flag of a marked file is left alone when decoding.
  Result<std::string> original = MakeSyntheticPart10(Spec(16, 16, 8, 8, false, "MONOCHROME2", Pattern::kSmooth));
  Result<std::string> jls = t.Transcode(*original, std::string(ts::kJpegLsLossless));
  EXPECT_EQ(GetString(*t.Transcode(*jls, kExplicit), 0x0028, 0x2110), "");
}

TEST(TranscoderErrorsTest, BadInputAndTargets) {
  Transcoder t;
  Result<std::string> out = t.Transcode("definitely not DICOM", kExplicit);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
  EXPECT_FALSE(IsNotCompressible(out.status()));

  Result<std::string> original = MakeSyntheticPart10(Spec(8, 8, 8, 8, false, "MONOCHROME2", Pattern::kRandom));
  for (const char* target : {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.5", "1.2.3.4", "1.2.840.10008.1.2.2"}) {
    out = t.Transcode(*original, target);
    ASSERT_FALSE(out.ok()) << target;
    EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
    EXPECT_FALSE(IsNotCompressible(out.status()));
  }
}

TEST(TranscoderErrorsTest, CorruptCodestreamIsCorruption) {
  Transcoder t;
  Result<std::string> original = MakeSyntheticPart10(Spec(32, 32, 16, 12, false, "MONOCHROME2", Pattern::kSmooth));
  for (std::string_view target : {ts::kJ2kLossless, ts::kHtj2kLossless, ts::kJpegLsLossless}) {
    Result<std::string> compressed = t.Transcode(*original, std::string(target));
    ASSERT_TRUE(compressed.ok());
    // Overwrite the codestream's first marker (J2K SOC FF4F / JPEG-LS SOI FFD8) and what follows.
    std::string broken = *compressed;
    const size_t soc = broken.find(target == ts::kJpegLsLossless ? "\xFF\xD8" : "\xFF\x4F\xFF\x51");
    ASSERT_NE(soc, std::string::npos);
    for (size_t i = soc; i < soc + 40 && i < broken.size(); ++i) broken[i] = '\x11';
    Result<std::string> back = t.Transcode(broken, kExplicit);
    ASSERT_FALSE(back.ok()) << SyntaxDisplayName(target);
    EXPECT_EQ(back.status().code(), Status::Code::kCorruption) << back.status().ToString();
  }
}

// ---- lossy only when asked ---------------------------------------------------------------

TEST(LossyTest, J2kLossyIsMarkedAndApproximate) {
  Transcoder t;
  Result<std::string> original = MakeSyntheticPart10(Spec(128, 128, 16, 12, false, "MONOCHROME2", Pattern::kSmooth));
  TranscodeOptions options;
  options.allow_lossy = true;
  options.j2k_lossy_ratio = 20;
  Result<std::string> lossy = t.Transcode(*original, std::string(ts::kJ2k), options);
  ASSERT_TRUE(lossy.ok()) << lossy.status().ToString();
  EXPECT_EQ(GetString(*lossy, 0x0028, 0x2110), "01");
  EXPECT_EQ(GetString(*lossy, 0x0028, 0x2114), "ISO_15444_1");
  const double ratio = std::stod(GetString(*lossy, 0x0028, 0x2112));
  EXPECT_GT(ratio, 10.0);
  auto a = NativeSamples(*original);
  auto b = DecodedSamples(*lossy);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(a->raw.size(), b->raw.size());
  EXPECT_NE(a->raw, b->raw);
  double err = 0;
  for (size_t i = 0; i < a->raw.size(); ++i) err += std::abs(double(a->raw[i]) - double(b->raw[i]));
  EXPECT_LT(err / a->raw.size(), 40.0);  // of a 4096-level range
  // A lossy result is never compressed again.
  Result<std::string> again = t.Transcode(*lossy, std::string(ts::kHtj2kLossless));
  EXPECT_TRUE(IsNotCompressible(again.status()));
  // Without allow_lossy, the same target is lossless.
  Result<std::string> lossless = t.Transcode(*original, std::string(ts::kJ2k));
  ASSERT_TRUE(lossless.ok());
  EXPECT_EQ(GetString(*lossless, 0x0028, 0x2110), "");
  EXPECT_EQ(DecodedSamples(*lossless)->raw, a->raw);
}

TEST(LossyTest, JpegLsNearLosslessIsMarkedAndBounded) {
  Transcoder t;
  Result<std::string> original = MakeSyntheticPart10(Spec(64, 64, 16, 12, false, "MONOCHROME2", Pattern::kRandom));
  TranscodeOptions options;
  options.allow_lossy = true;
  options.jpegls_near = 3;
  Result<std::string> lossy = t.Transcode(*original, std::string(ts::kJpegLsNearLossless), options);
  ASSERT_TRUE(lossy.ok()) << lossy.status().ToString();
  EXPECT_EQ(GetString(*lossy, 0x0028, 0x2110), "01");
  EXPECT_NE(GetString(*lossy, 0x0028, 0x2114).find("ISO_14495_1"), std::string::npos);
  auto a = NativeSamples(*original);
  auto b = DecodedSamples(*lossy);
  ASSERT_TRUE(b.ok());
  uint32_t worst = 0;
  for (size_t i = 0; i < a->raw.size(); ++i) {
    worst = std::max<uint32_t>(worst, uint32_t(std::abs(int(a->raw[i]) - int(b->raw[i]))));
  }
  EXPECT_GT(worst, 0u);
  EXPECT_LE(worst, 3u);
  // allow_lossy without a NEAR value stays lossless.
  options.jpegls_near = 0;
  Result<std::string> exact = t.Transcode(*original, std::string(ts::kJpegLsNearLossless), options);
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(GetString(*exact, 0x0028, 0x2110), "");
  EXPECT_EQ(DecodedSamples(*exact)->raw, a->raw);
}

// ---- compression and concurrency ----------------------------------------------------------

TEST(CompressionRatioTest, NoisyCtSliceCompressesByMoreThanOneAndAHalf) {
  Transcoder t;
  SyntheticSpec spec;
  spec.rows = spec.columns = 512;
  spec.bits_allocated = 16;
  spec.bits_stored = 12;
  spec.pattern = Pattern::kCt;
  Result<std::string> original = MakeSyntheticPart10(spec);
  ASSERT_TRUE(original.ok());
  const double native = 512.0 * 512 * 2;
  for (std::string_view target : {ts::kJpegLsLossless, ts::kJ2kLossless, ts::kHtj2kLossless}) {
    Result<std::string> compressed = t.Transcode(*original, std::string(target));
    ASSERT_TRUE(compressed.ok());
    auto items = PixelItems(*compressed);
    ASSERT_TRUE(items.ok());
    const double ratio = native / double((*items)[1].size());
    std::printf("%-22s ratio %.2f\n", std::string(SyntaxDisplayName(target)).c_str(), ratio);
    EXPECT_GT(ratio, 1.5) << SyntaxDisplayName(target);
    EXPECT_EQ(DecodedSamples(*compressed)->raw, NativeSamples(*original)->raw);
  }
}

TEST(ConcurrencyTest, ParallelTranscodesMatchSerialResults) {
  Transcoder t;
  std::vector<std::string> inputs;
  for (int i = 0; i < 6; ++i) {
    SyntheticSpec s = Spec(96 + i, 80, 16, 12, i % 2 == 1, "MONOCHROME2", Pattern::kSmooth, 1 + i % 3);
    if (i == 5) s = Spec(60, 70, 8, 8, false, "RGB", Pattern::kSmooth, 2, 3, 1);
    inputs.push_back(*MakeSyntheticPart10(s));
  }
  const std::string_view targets[] = {ts::kJpegLsLossless, ts::kJ2kLossless, ts::kHtj2kLossless};
  // Serial reference.
  std::vector<std::string> expected;
  for (const std::string& in : inputs) {
    for (std::string_view target : targets) expected.push_back(*t.Transcode(in, std::string(target)));
  }
  std::atomic<int> failures{0};
  std::mutex log_mutex;
  std::vector<std::thread> threads;
  for (int th = 0; th < 4; ++th) {
    threads.emplace_back([&, th] {
      Transcoder local;
      for (int round = 0; round < 3; ++round) {
        for (size_t i = 0; i < inputs.size(); ++i) {
          for (size_t k = 0; k < std::size(targets); ++k) {
            const size_t idx = (i + th + round) % inputs.size();
            Result<std::string> out = local.Transcode(inputs[idx], std::string(targets[k]));
            auto fail = [&](const std::string& what) {
              ++failures;
              std::lock_guard<std::mutex> lock(log_mutex);
              ADD_FAILURE() << "thread " << th << " input " << idx << " " << SyntaxDisplayName(targets[k]) << ": "
                            << what;
            };
            if (!out.ok()) {
              fail(out.status().ToString());
              continue;
            }
            Result<std::string> back = local.Transcode(*out, kExplicit);
            if (!back.ok()) {
              fail("decode: " + back.status().ToString());
            } else if (NativeSamples(*back)->raw != NativeSamples(inputs[idx])->raw) {
              fail("decoded pixels differ");
            }
            // Same bytes as the serial run (HTJ2K excepted: see htj2k_codec.h).
            if (targets[k] != ts::kHtj2kLossless &&
                *PixelItems(*out) != *PixelItems(expected[idx * std::size(targets) + k])) {
              fail("codestream differs from the serial one");
            }
          }
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace strata::codec
