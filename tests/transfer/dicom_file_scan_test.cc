#include "transfer/dicom_file_scan.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "transfer/test_files.h"

namespace strata {
namespace {

using testing::MakeTempDir;
using testing::TestFileSpec;
using testing::WriteTestFile;

void WriteText(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(DicomFileScan, ProbesClassInstanceSyntaxAndSize) {
  const std::string dir = MakeTempDir("probe");
  WriteTestFile(dir + "/a.dcm", {.sop_uid = "1.2.3.1", .syntax = "1.2.840.10008.1.2"});
  auto info = ProbeDicomFile(dir + "/a.dcm");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->sop_class_uid, "1.2.840.10008.5.1.4.1.1.2");
  EXPECT_EQ(info->sop_instance_uid, "1.2.3.1");
  EXPECT_EQ(info->transfer_syntax, "1.2.840.10008.1.2");
  EXPECT_EQ(info->size, std::filesystem::file_size(dir + "/a.dcm"));
}

TEST(DicomFileScan, CompressedAndMetaLessFilesKeepTheirSyntax) {
  const std::string dir = MakeTempDir("syntaxes");
  WriteTestFile(dir + "/jls.dcm", {.sop_uid = "1.2.3.2", .syntax = "1.2.840.10008.1.2.4.80"});
  WriteTestFile(dir + "/bare.dcm", {.sop_uid = "1.2.3.3", .syntax = "1.2.840.10008.1.2", .meta_header = false});
  auto jls = ProbeDicomFile(dir + "/jls.dcm");
  ASSERT_TRUE(jls.ok()) << jls.status().ToString();
  EXPECT_EQ(jls->transfer_syntax, "1.2.840.10008.1.2.4.80");
  auto bare = ProbeDicomFile(dir + "/bare.dcm");
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  EXPECT_EQ(bare->transfer_syntax, "1.2.840.10008.1.2");
  EXPECT_EQ(bare->sop_instance_uid, "1.2.3.3");
}

TEST(DicomFileScan, WalksDirectoriesSkipsAndCountsTheRest) {
  const std::string dir = MakeTempDir("walk");
  std::filesystem::create_directories(dir + "/s1/deeper");
  WriteTestFile(dir + "/s1/1.dcm", {.sop_uid = "1.2.3.1"});
  WriteTestFile(dir + "/s1/deeper/2", {.sop_uid = "1.2.3.2"});  // no extension needed
  WriteTestFile(dir + "/DICOMDIR", {.sop_class = "1.2.840.10008.1.3.10", .sop_uid = "1.2.3.9"});
  WriteText(dir + "/README.txt", "not an image\n");
  WriteText(dir + "/s1/empty", "");
  std::string junk(2000, '\x7f');
  WriteText(dir + "/s1/junk.bin", junk);
  // The same file named twice (directly and through its directory) is sent once.
  auto r = ScanForDicomFiles({dir, dir + "/s1/1.dcm"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->files.size(), 2u);
  EXPECT_EQ(r->files[0].path, dir + "/s1/1.dcm");
  EXPECT_EQ(r->files[1].path, dir + "/s1/deeper/2");
  EXPECT_EQ(r->bytes, r->files[0].size + r->files[1].size);
  ASSERT_EQ(r->skipped.size(), 4u);
  bool dicomdir = false;
  for (const auto& s : r->skipped) {
    EXPECT_FALSE(s.reason.empty());
    dicomdir |= s.path == dir + "/DICOMDIR" && s.reason == "DICOMDIR";
  }
  EXPECT_TRUE(dicomdir);
}

TEST(DicomFileScan, MissingPathIsAnError) {
  auto r = ScanForDicomFiles({"/nonexistent/strata/path"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
}

TEST(DicomFileScan, MalformedUidIsNotSent) {
  const std::string dir = MakeTempDir("baduid");
  WriteTestFile(dir + "/bad.dcm", {.sop_uid = "1.2.03.4"});
  auto info = ProbeDicomFile(dir + "/bad.dcm");
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace strata
