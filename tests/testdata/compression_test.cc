// Generated CT must compress like real CT under a lossless codec: measured with DCMTK's own
// command line tools (package dcmtk), the way an operator would.
#include <gtest/gtest.h>

#include <filesystem>

#include "test_helpers.h"
#include "testdata/study_generator.h"

namespace strata::testdata {
namespace {

using testing::Load;
using testing::MetaSyntax;
using testing::PixelBytes;
using testing::RunCommand;
using testing::TempDir;

constexpr const char* kJpegLsLossless = "1.2.840.10008.1.2.4.80";

bool HaveTool(const std::string& tool) { return RunCommand("command -v " + tool + " >/dev/null 2>&1") == 0; }

TEST(Compression, JpegLsLosslessRatioIsLikeRealCt) {
  ASSERT_TRUE(HaveTool("dcmcjpls") && HaveTool("dcmdjpls"))
      << "dcmcjpls/dcmdjpls (Debian package dcmtk) are required";
  GeneratorOptions o;
  o.seed = 3;
  o.images_per_series = 100;
  auto g = StudyGenerator::Create(o);
  ASSERT_TRUE(g.ok());
  TempDir d;
  for (uint32_t slice : {15u, 50u, 90u}) {  // chest, abdomen, pelvis
    SCOPED_TRACE("slice " + std::to_string(slice));
    const std::string in = d / "in.dcm", jls = d / "jls.dcm", back = d / "back.dcm";
    auto size = g->WriteFile({1, 1, 1, slice}, in);
    ASSERT_TRUE(size.ok());
    ASSERT_EQ(RunCommand("dcmcjpls '" + in + "' '" + jls + "' 2>&1"), 0);
    const double ratio = double(*size) / std::filesystem::file_size(jls);
    EXPECT_GE(ratio, 2.0) << "compresses too badly for CT";
    EXPECT_LE(ratio, 5.0) << "compresses too well: not CT-like entropy";
    auto c = Load(jls);
    ASSERT_TRUE(c);
    EXPECT_EQ(MetaSyntax(*c), kJpegLsLossless);
    // Lossless: decoding gives back exactly the generated pixels.
    ASSERT_EQ(RunCommand("dcmdjpls '" + jls + "' '" + back + "' 2>&1"), 0);
    auto a = Load(in), b = Load(back);
    ASSERT_TRUE(a && b);
    EXPECT_TRUE(PixelBytes(a->getDataset()) == PixelBytes(b->getDataset()));
  }
}

TEST(Compression, DcmdumpReadsEveryKindWithoutWarnings) {
  ASSERT_TRUE(HaveTool("dcmdump")) << "dcmdump (Debian package dcmtk) is required";
  for (ImageKind kind : {ImageKind::kCt, ImageKind::kMr, ImageKind::kMultiFrame, ImageKind::kColor,
                         ImageKind::kMono1}) {
    SCOPED_TRACE(ImageKindName(kind));
    GeneratorOptions o;
    o.kind = kind;
    o.images_per_series = 1;
    o.rows = o.cols = 128;
    auto g = StudyGenerator::Create(o);
    ASSERT_TRUE(g.ok());
    TempDir d;
    ASSERT_TRUE(g->WriteFile({1, 1, 1, 1}, d / "x.dcm").ok());
    std::string out;
    // dcmdump stops with a non-zero status on a damaged file (-E is its default).
    ASSERT_EQ(RunCommand("dcmdump -E '" + (d / "x.dcm") + "' 2>&1", &out), 0) << out;
    EXPECT_EQ(out.find("W: "), std::string::npos) << out;
    EXPECT_EQ(out.find("E: "), std::string::npos) << out;
    EXPECT_NE(out.find("(7fe0,0010)"), std::string::npos);
  }
}

}  // namespace
}  // namespace strata::testdata
