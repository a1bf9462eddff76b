// What we write must be readable by other implementations: DCMTK's dcmdjpls for JPEG-LS,
// OpenJPEG's opj_decompress for the JPEG 2000 and HTJ2K codestreams, GDCM's gdcmconv for
// JPEG 2000 files; and we read what dcmcjpls writes.
#include <gtest/gtest.h>

#include "codec/synthetic_image.h"
#include "codec/transcoder.h"
#include "codec_test_util.h"

namespace strata::codec {
namespace {

using testing::DecodedSamples;
using testing::HaveProgram;
using testing::NativeSamples;
using testing::PixelItems;
using testing::ReadFileBytes;
using testing::RunCommand;
using testing::WriteFileBytes;

SyntheticSpec Spec(uint32_t rows, uint32_t cols, uint32_t alloc, uint32_t stored, bool sgn, const char* pi,
                   uint32_t frames = 1, uint32_t spp = 1, uint32_t planar = 0) {
  SyntheticSpec s;
  s.rows = rows;
  s.columns = cols;
  s.bits_allocated = alloc;
  s.bits_stored = stored;
  s.is_signed = sgn;
  s.photometric = pi;
  s.frames = frames;
  s.samples_per_pixel = spp;
  s.planar_configuration = planar;
  s.pattern = Pattern::kSmooth;
  s.seed = rows + cols + stored;
  return s;
}

const SyntheticSpec kImages[] = {
    Spec(67, 45, 16, 12, true, "MONOCHROME2", 2), Spec(64, 64, 16, 16, false, "MONOCHROME2"),
    Spec(33, 31, 8, 8, false, "MONOCHROME2"), Spec(40, 50, 8, 8, false, "RGB", 2, 3, 1),
    Spec(20, 18, 16, 16, false, "RGB", 1, 3, 0)};

TEST(InteropTest, DcmdjplsDecodesOurJpegLs) {
  if (!HaveProgram("dcmdjpls")) GTEST_SKIP() << "dcmdjpls not installed (apt-get install dcmtk)";
  const std::string dir = testing::MakeTempDir("dcmdjpls");
  Transcoder t;
  int i = 0;
  for (const SyntheticSpec& spec : kImages) {
    const std::string original = *MakeSyntheticPart10(spec);
    Result<std::string> jls = t.Transcode(original, std::string(ts::kJpegLsLossless));
    ASSERT_TRUE(jls.ok()) << jls.status().ToString();
    const std::string in = dir + "/in" + std::to_string(i) + ".dcm", out = dir + "/out" + std::to_string(i) + ".dcm";
    ++i;
    ASSERT_TRUE(WriteFileBytes(in, *jls));
    ASSERT_EQ(RunCommand("dcmdjpls '" + in + "' '" + out + "'"), 0);
    Result<testing::Samples> theirs = NativeSamples(ReadFileBytes(out));
    ASSERT_TRUE(theirs.ok()) << theirs.status().ToString();
    EXPECT_TRUE(theirs->raw == NativeSamples(original)->raw) << in;
  }
}

TEST(InteropTest, WeDecodeDcmcjplsOutput) {
  if (!HaveProgram("dcmcjpls")) GTEST_SKIP() << "dcmcjpls not installed (apt-get install dcmtk)";
  const std::string dir = testing::MakeTempDir("dcmcjpls");
  int i = 0;
  for (const SyntheticSpec& spec : kImages) {
    const std::string original = *MakeSyntheticPart10(spec);
    const std::string in = dir + "/in" + std::to_string(i) + ".dcm", out = dir + "/out" + std::to_string(i) + ".dcm";
    ++i;
    ASSERT_TRUE(WriteFileBytes(in, original));
    ASSERT_EQ(RunCommand("dcmcjpls '" + in + "' '" + out + "'"), 0);
    Result<testing::Samples> ours = DecodedSamples(ReadFileBytes(out));
    ASSERT_TRUE(ours.ok()) << ours.status().ToString();
    EXPECT_TRUE(ours->raw == NativeSamples(original)->raw) << in;
  }
}

// opj_decompress writes a .rawl file: each component in turn, little-endian, one byte per
// sample up to 8 bits of precision and two above, signed when the codestream says so.
std::string ExpectedRawl(const testing::Samples& s, uint32_t frame) {
  const ImageInfo& info = s.info;
  const size_t bytes = info.bits_stored <= 8 ? 1 : 2;
  const size_t per_frame = size_t{info.rows} * info.columns * info.samples_per_pixel;
  std::string out;
  for (uint32_t c = 0; c < info.samples_per_pixel; ++c) {
    for (size_t p = 0; p < size_t{info.rows} * info.columns; ++p) {
      // Signed values come out as Bits Stored-wide two's complement, not sign-extended.
      const uint32_t v = s.raw[frame * per_frame + p * info.samples_per_pixel + c] &
                         ((uint32_t{1} << info.bits_stored) - 1);
      for (size_t b = 0; b < bytes; ++b) out.push_back(static_cast<char>(v >> (8 * b)));
    }
  }
  return out;
}

TEST(InteropTest, OpjDecompressDecodesOurJ2kAndHtj2kCodestreams) {
  if (!HaveProgram("opj_decompress")) GTEST_SKIP() << "opj_decompress not installed (apt-get install libopenjp2-tools)";
  const std::string dir = testing::MakeTempDir("opj");
  Transcoder t;
  int n = 0;
  for (const SyntheticSpec& spec : kImages) {
    const std::string original = *MakeSyntheticPart10(spec);
    Result<testing::Samples> samples = NativeSamples(original);
    ASSERT_TRUE(samples.ok());
    for (std::string_view target : {ts::kJ2kLossless, ts::kHtj2kLossless}) {
      Result<std::string> file = t.Transcode(original, std::string(target));
      ASSERT_TRUE(file.ok());
      Result<std::vector<std::string>> items = PixelItems(*file);
      ASSERT_TRUE(items.ok());
      for (uint32_t f = 0; f < spec.frames; ++f) {
        const std::string base = dir + "/f" + std::to_string(n++);
        ASSERT_TRUE(WriteFileBytes(base + ".j2k", (*items)[f + 1]));
        ASSERT_EQ(RunCommand("opj_decompress -quiet -i '" + base + ".j2k' -o '" + base + ".rawl' >/dev/null 2>&1"), 0)
            << SyntaxDisplayName(target);
        EXPECT_TRUE(ReadFileBytes(base + ".rawl") == ExpectedRawl(*samples, f))
            << SyntaxDisplayName(target) << " frame " << f << " of " << spec.rows << "x" << spec.columns << " ("
            << base << ".rawl)";
      }
    }
  }
}

TEST(InteropTest, GdcmconvDecodesOurJ2kFiles) {
  if (!HaveProgram("gdcmconv")) GTEST_SKIP() << "gdcmconv not installed (apt-get install libgdcm-tools)";
  const std::string dir = testing::MakeTempDir("gdcmconv");
  Transcoder t;
  int i = 0;
  for (const SyntheticSpec& spec : kImages) {
    const std::string original = *MakeSyntheticPart10(spec);
    for (std::string_view target : {ts::kJ2kLossless, ts::kJ2k}) {
      Result<std::string> j2k = t.Transcode(original, std::string(target));
      ASSERT_TRUE(j2k.ok());
      const std::string in = dir + "/in" + std::to_string(i) + ".dcm", out = dir + "/out" + std::to_string(i) + ".dcm";
      ++i;
      ASSERT_TRUE(WriteFileBytes(in, *j2k));
      ASSERT_EQ(RunCommand("gdcmconv --raw '" + in + "' '" + out + "' 2>/dev/null"), 0) << in;
      Result<testing::Samples> theirs = NativeSamples(ReadFileBytes(out));
      ASSERT_TRUE(theirs.ok()) << theirs.status().ToString();
      EXPECT_TRUE(theirs->raw == NativeSamples(original)->raw) << in;
      EXPECT_EQ(theirs->info.photometric, spec.photometric);
    }
  }
}

}  // namespace
}  // namespace strata::codec
