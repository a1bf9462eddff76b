// The sample files Debian ships with python3-pydicom: every one is tried with every codec;
// compressed ones are decoded and compared with their uncompressed twins and with GDCM.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "codec/part10_io.h"
#include "codec/transcoder.h"
#include "codec_test_util.h"

namespace strata::codec {
namespace {

using testing::DecodedSamples;
using testing::kPydicomDir;
using testing::NativeSamples;
using testing::ReadFileBytes;
using testing::Samples;

std::vector<std::string> SampleFiles() {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(kPydicomDir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".dcm") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string Base(const std::string& path) { return std::filesystem::path(path).filename().string(); }

class SamplesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (SampleFiles().empty()) GTEST_FAIL() << "no sample files in " << kPydicomDir << " (apt-get install python3-pydicom)";
  }
  Transcoder t_;
};

// Every sample: decode it (if it is compressed), then encode it with each codec, decode that,
// and demand the same stored bits. Files that cannot be compressed are logged and skipped.
TEST_F(SamplesTest, EverySampleRoundTripsOrIsSkippedWithAReason) {
  const std::string_view targets[] = {ts::kJpegLsLossless, ts::kJ2kLossless, ts::kHtj2kLossless};
  std::map<std::string_view, int> round_tripped;
  std::map<std::string, int> skip_reasons;
  for (const std::string& path : SampleFiles()) {
    const std::string bytes = ReadFileBytes(path);
    Result<Samples> reference = DecodedSamples(bytes);
    if (!reference.ok()) {
      std::printf("  skip %-42s %s\n", Base(path).c_str(), reference.status().ToString().c_str());
      ++skip_reasons[reference.status().message().substr(0, 40)];
      continue;
    }
    for (std::string_view target : targets) {
      Result<std::string> compressed = t_.Transcode(bytes, std::string(target));
      if (!compressed.ok()) {
        if (std::string_view(target) == ts::kJpegLsLossless) {
          std::printf("  skip %-42s %s\n", Base(path).c_str(), compressed.status().message().c_str());
        }
        EXPECT_TRUE(IsNotCompressible(compressed.status()))
            << Base(path) << " -> " << SyntaxDisplayName(target) << ": " << compressed.status().ToString();
        continue;
      }
      Result<Samples> back = DecodedSamples(*compressed);
      ASSERT_TRUE(back.ok()) << Base(path) << ": " << back.status().ToString();
      EXPECT_TRUE(back->raw == reference->raw) << Base(path) << " via " << SyntaxDisplayName(target);
      ++round_tripped[target];
    }
  }
  for (std::string_view target : targets) {
    std::printf("%-20s round-tripped %d sample files\n", std::string(SyntaxDisplayName(target)).c_str(),
                round_tripped[target]);
    // 19 of the 68 samples are compressible images (measured with pydicom 2.3.1).
    EXPECT_GE(round_tripped[target], 18) << SyntaxDisplayName(target);
  }
}

// Compressed samples with an uncompressed twin decode to exactly the twin's stored values.
TEST_F(SamplesTest, CompressedSamplesMatchTheirUncompressedTwins) {
  const std::pair<const char*, const char*> pairs[] = {
      {"MR_small_jpeg_ls_lossless.dcm", "MR_small.dcm"},
      {"MR_small_RLE.dcm", "MR_small.dcm"},
      {"MR_small_jp2klossless.dcm", "MR_small.dcm"},
      {"MR_small_bigendian.dcm", "MR_small.dcm"},
      {"MR_small_expb.dcm", "MR_small.dcm"},
      {"MR_small_implicit.dcm", "MR_small.dcm"},
      {"rtdose_rle.dcm", "rtdose.dcm"},
      {"rtdose_rle_1frame.dcm", "rtdose_1frame.dcm"},
  };
  for (const auto& [compressed, reference] : pairs) {
    Result<Samples> a = DecodedSamples(ReadFileBytes(std::string(kPydicomDir) + "/" + compressed));
    Result<Samples> b = NativeSamples(ReadFileBytes(std::string(kPydicomDir) + "/" + reference));
    ASSERT_TRUE(a.ok()) << compressed << ": " << a.status().ToString();
    ASSERT_TRUE(b.ok()) << reference << ": " << b.status().ToString();
    EXPECT_EQ(a->info.frames, b->info.frames) << compressed;
    EXPECT_TRUE(a->raw == b->raw) << compressed << " differs from " << reference;
  }
}

// The samples GDCM decodes differently (see DecodingAgreesWithGdcm), pinned to known values.
TEST_F(SamplesTest, KnownValuesOfDisputedSamples) {
  Result<Samples> rle = DecodedSamples(ReadFileBytes(std::string(kPydicomDir) + "/SC_rgb_rle_16bit.dcm"));
  ASSERT_TRUE(rle.ok());
  EXPECT_EQ(rle->raw[0], 65535u);  // top-left pixel is pure red
  EXPECT_EQ(rle->raw[1], 0u);
  EXPECT_EQ(rle->raw[2], 0u);
  Result<Samples> j2k = DecodedSamples(ReadFileBytes(std::string(kPydicomDir) + "/J2K_pixelrep_mismatch.dcm"));
  ASSERT_TRUE(j2k.ok());
  EXPECT_EQ(j2k->raw[0], 0xF830u);  // -2000 as 16-bit two's complement
}

// Every compressed sample we can decode, except the deliberately broken one.
TEST_F(SamplesTest, AllCompressedSamplesDecode) {
  const std::set<std::string> broken = {
      "JPEG2000-embedded-sequence-delimiter.dcm",  // SIZ marker overwritten; GDCM fails as well
      "SC_rgb_jpeg.dcm",                           // meta says explicit VR, data set is implicit
  };
  int decoded = 0;
  for (const std::string& path : SampleFiles()) {
    const std::string bytes = ReadFileBytes(path);
    Result<std::string> syntax = PeekTransferSyntax(bytes);
    if (!syntax.ok() || FindSyntax(*syntax) == nullptr || !FindSyntax(*syntax)->encapsulated()) continue;
    Result<std::string> native = t_.Transcode(bytes, std::string(ts::kExplicitLE));
    if (broken.count(Base(path))) {
      EXPECT_FALSE(native.ok()) << Base(path);
      continue;
    }
    ASSERT_TRUE(native.ok()) << Base(path) << ": " << native.status().ToString();
    EXPECT_EQ(testing::MetaSyntax(*native), ts::kExplicitLE);
    ++decoded;
  }
  EXPECT_GE(decoded, 32);  // JPEG baseline/extended/lossless, JPEG-LS, JPEG 2000, RLE samples
}

// Our decoders against GDCM's (libgdcm-tools) on every lossless-coded sample.
TEST_F(SamplesTest, DecodingAgreesWithGdcm) {
  if (!testing::HaveProgram("gdcmconv")) GTEST_SKIP() << "gdcmconv not installed (apt-get install libgdcm-tools)";
  const std::string dir = testing::MakeTempDir("gdcm");
  // Where GDCM 3.0.21 is the one that is wrong (checked against pydicom's decoders):
  const std::set<std::string> gdcm_wrong = {
      "SC_rgb_rle_16bit.dcm",       // RLE segment order: GDCM's first pixel is (0, 65280, 255)
      "SC_rgb_rle_32bit.dcm",       // same; pydicom and DCMTK agree on (65535.., 0, 0) red
      "J2K_pixelrep_mismatch.dcm",  // unsigned codestream, Pixel Representation 1: GDCM keeps
                                    // the unsigned values (6192), we read them as the data set
                                    // says (-2000, the CT padding value)
  };
  int compared = 0;
  for (const std::string& path : SampleFiles()) {
    const std::string bytes = ReadFileBytes(path);
    Result<std::string> syntax = PeekTransferSyntax(bytes);
    if (!syntax.ok()) continue;
    const SyntaxInfo* info = FindSyntax(*syntax);
    // Lossy JPEG colour conversion legitimately differs between IJG-based decoders.
    if (info == nullptr || !info->encapsulated() || info->lossiness == Lossiness::kLossy) continue;
    if (gdcm_wrong.count(Base(path))) continue;
    const std::string out = dir + "/" + Base(path);
    if (testing::RunCommand("gdcmconv --raw '" + path + "' '" + out + "' >/dev/null 2>&1") != 0) continue;
    Result<Samples> ours = DecodedSamples(bytes);
    Result<Samples> theirs = NativeSamples(ReadFileBytes(out));
    if (!ours.ok() || !theirs.ok()) continue;
    EXPECT_TRUE(ours->raw == theirs->raw) << Base(path);
    ++compared;
  }
  std::printf("compared %d samples with GDCM\n", compared);
  EXPECT_GE(compared, 10);
}

}  // namespace
}  // namespace strata::codec
