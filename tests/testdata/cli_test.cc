// strata-gen as a user runs it.
#include <gtest/gtest.h>

#include <filesystem>

#include "test_helpers.h"

namespace strata::testdata {
namespace {

using testing::ListFiles;
using testing::Load;
using testing::ReadAll;
using testing::ReadTree;
using testing::RunCommand;
using testing::Str;
using testing::TempDir;

const std::string kGen = STRATA_GEN_BINARY;

TEST(StrataGen, CtWritesTheRequestedStudiesAndASummary) {
  TempDir d;
  std::string out;
  ASSERT_EQ(RunCommand(kGen + " ct --out " + d.path() + "/ct --patients 2 --studies-per-patient 2 --series 2 "
                       "--slices 3 --seed 4 --size 64 --study-date 20010203 --manifest " +
                    d.path() + "/m.tsv 2>&1",
                &out),
            0)
      << out;
  EXPECT_NE(out.find("wrote 24 files"), std::string::npos) << out;
  EXPECT_NE(out.find("MB/s"), std::string::npos) << out;
  auto files = ListFiles(d.path() + "/ct");
  ASSERT_EQ(files.size(), 24u);
  // <out>/<StudyUID>/<SeriesUID>/<SOPUID>.dcm
  auto ff = Load(files[0]);
  ASSERT_TRUE(ff);
  DcmDataset* ds = ff->getDataset();
  std::filesystem::path p(files[0]);
  EXPECT_EQ(p.filename().string(), Str(ds, DCM_SOPInstanceUID) + ".dcm");
  EXPECT_EQ(p.parent_path().filename().string(), Str(ds, DCM_SeriesInstanceUID));
  EXPECT_EQ(p.parent_path().parent_path().filename().string(), Str(ds, DCM_StudyInstanceUID));
  EXPECT_EQ(Str(ds, DCM_StudyDate), "20010203");
  EXPECT_EQ(Str(ds, DCM_Rows), "64");
  std::string m = ReadAll(d.path() + "/m.tsv");
  EXPECT_EQ(std::count(m.begin(), m.end(), '\n'), 1 + 8);  // header + 8 series
}

TEST(StrataGen, SameArgumentsSameBytes) {
  TempDir d;
  for (const char* sub : {"a", "b"}) {
    ASSERT_EQ(RunCommand(kGen + " mr --out " + d.path() + "/" + sub + " --slices 4 --seed 8 --flat -q >/dev/null 2>&1"), 0);
  }
  auto a = ReadTree(d.path() + "/a"), b = ReadTree(d.path() + "/b");
  EXPECT_EQ(a.size(), 4u);
  EXPECT_TRUE(a == b);
  ASSERT_EQ(RunCommand(kGen + " mr --out " + d.path() + "/c --slices 4 --seed 9 --flat -q >/dev/null 2>&1"), 0);
  auto c = ReadTree(d.path() + "/c");
  for (const auto& [name, bytes] : c) EXPECT_EQ(a.count(name), 0u) << "seed 9 reused " << name;
}

TEST(StrataGen, OtherKindsAndSamples) {
  TempDir d;
  for (const char* kind : {"multiframe", "color", "mono1"}) {
    std::string out;
    ASSERT_EQ(RunCommand(kGen + " " + kind + " --out " + d.path() + "/" + kind + " --seed 1 --syntax implicit 2>&1", &out), 0)
        << out;
    auto files = ListFiles(d.path() + "/" + kind);
    ASSERT_EQ(files.size(), 1u) << kind;
    auto ff = Load(files[0]);
    ASSERT_TRUE(ff);
    EXPECT_EQ(Str(ff->getMetaInfo(), DCM_TransferSyntaxUID), "1.2.840.10008.1.2");
  }
  std::string out;
  ASSERT_EQ(RunCommand(kGen + " samples --from " + d.path() + "/color " + d.path() + "/mono1 --out " + d.path() +
                    "/s --seed 3 --implicit --deflated 2>&1",
                &out),
            0)
      << out;
  EXPECT_NE(out.find("scanned 2 files, wrote 4 (2 variants)"), std::string::npos) << out;
  EXPECT_EQ(ListFiles(d.path() + "/s").size(), 4u);
}

TEST(StrataGen, BadArgumentsFail) {
  TempDir d;
  std::string out;
  EXPECT_NE(RunCommand(kGen + " ct --out " + d.path() + " --study-date 2001 2>&1", &out), 0);
  EXPECT_NE(out.find("YYYYMMDD"), std::string::npos) << out;
  EXPECT_NE(RunCommand(kGen + " ct 2>&1", &out), 0);                       // --out is required
  EXPECT_NE(RunCommand(kGen + " pet --out " + d.path() + " 2>&1", &out), 0);  // unknown kind
  EXPECT_NE(RunCommand(kGen + " ct --out " + d.path() + " --bits-stored 14 2>&1", &out), 0);
  EXPECT_NE(RunCommand(kGen + " samples --from " + d.path() + "/nope --out " + d.path() + "/o 2>&1", &out), 0);
  EXPECT_TRUE(ListFiles(d.path()).empty());
}

}  // namespace
}  // namespace strata::testdata
