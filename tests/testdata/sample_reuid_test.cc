#include "testdata/sample_reuid.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include <dcmtk/dcmdata/dcuid.h>

#include "model/uid.h"
#include "test_helpers.h"
#include "testdata/study_generator.h"

namespace strata::testdata {
namespace {

namespace fs = std::filesystem;
using testing::Load;
using testing::MetaSyntax;
using testing::PixelBytes;
using testing::ReadAll;
using testing::ReadTree;
using testing::RunCommand;
using testing::Str;
using testing::TempDir;

constexpr const char* kPydicomSamples = "/usr/lib/python3/dist-packages/pydicom/data/test_files";
// Other Debian packages with sample images (../shared/bench/README.md lists them).
constexpr const char* kOtherDebianSamples[] = {
    "/usr/share/octave/packages/dicom-0.5.1/imdata",
    "/usr/share/doc/libgdcm3.0/examples",
    "/usr/share/doc/dicom3tools/examples",
    "/usr/share/doc/dicomnifti/examples",
    "/usr/lib/python3/dist-packages/heudiconv/tests/data",
};

std::string SourceSyntax(DcmFileFormat& ff) {
  return DcmXfer(ff.getDataset()->getOriginalXfer()).getXferID();
}

// A small corpus with the problems real sample collections have: the same SOP Instance UID in
// several files (a byte copy and a JPEG-LS transcode), several encodings, a bare dataset
// without meta header, and files that must be skipped.
class SampleCorpus : public ::testing::Test {
 protected:
  void SetUp() override {
    GeneratorOptions o;
    o.seed = 77;
    o.rows = o.cols = 48;
    o.images_per_series = 3;
    auto ct = StudyGenerator::Create(o);
    ASSERT_TRUE(ct.ok());
    const std::string in = dir_.path();
    fs::create_directories(in + "/sub");
    ASSERT_TRUE(ct->WriteFile({1, 1, 1, 1}, in + "/a.dcm").ok());
    fs::copy_file(in + "/a.dcm", in + "/a_copy.dcm");
    ASSERT_EQ(RunCommand("dcmcjpls '" + in + "/a.dcm' '" + in + "/sub/a_jls.dcm' 2>&1"), 0)
        << "dcmcjpls (package dcmtk) is required";
    GeneratorOptions impl = o;
    impl.syntax = OutputSyntax::kImplicitLE;
    ASSERT_TRUE(StudyGenerator::Create(impl)->WriteFile({1, 1, 1, 2}, in + "/b_impl.dcm").ok());
    GeneratorOptions be = o;
    be.syntax = OutputSyntax::kExplicitBE;
    ASSERT_TRUE(StudyGenerator::Create(be)->WriteFile({1, 1, 1, 3}, in + "/c_be.dcm").ok());
    GeneratorOptions mr;
    mr.kind = ImageKind::kMr;
    mr.rows = mr.cols = 32;
    mr.images_per_series = 1;
    ASSERT_TRUE(StudyGenerator::Create(mr)->WriteFile({1, 1, 1, 1}, in + "/sub/mr.dcm").ok());
    testing::WriteAll(in + "/notes.txt", "not DICOM at all\n");
    // SOP class but no pixel data (like an SR or RT plan).
    {
      DcmFileFormat ff;
      ff.getDataset()->putAndInsertString(DCM_SOPClassUID, UID_BasicTextSRStorage);
      ff.getDataset()->putAndInsertString(DCM_SOPInstanceUID, "1.2.3.4.5");
      ff.getDataset()->putAndInsertString(DCM_PatientName, "NO^PIXELS");
      ASSERT_TRUE(ff.saveFile((in + "/nopixels.dcm").c_str(), EXS_LittleEndianExplicit).good());
    }
    // Bare dataset (no preamble, no meta) with pixel data but no SOP class.
    {
      DcmFileFormat ff;
      ff.getDataset()->putAndInsertString(DCM_StudyDate, "20200101");
      ff.getDataset()->putAndInsertString(DCM_PatientName, "NO^CLASS");
      ff.getDataset()->putAndInsertUint16(DCM_Rows, 2);
      Uint16 px[4] = {1, 2, 3, 4};
      ff.getDataset()->putAndInsertUint16Array(DCM_PixelData, px, 4);
      ASSERT_TRUE(ff.saveFile((in + "/noclass.dcm").c_str(), EXS_LittleEndianImplicit,
                              EET_ExplicitLength, EGL_recalcGL, EPD_noChange, 0, 0, EWM_dataset)
                      .good());
    }
  }

  ReUidOptions Options(const std::string& out, uint64_t seed = 5) const {
    ReUidOptions o;
    o.inputs = {dir_.path()};
    o.out_dir = out;
    o.seed = seed;
    return o;
  }

  TempDir dir_;
};

TEST_F(SampleCorpus, CopiesGetFreshUidsAndKeepEverythingElse) {
  TempDir out;
  auto r = ReUidSamples(Options(out.path()));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->scanned, 9u);
  EXPECT_EQ(r->written, 6u);
  EXPECT_EQ(r->variants, 0u);
  EXPECT_EQ(r->skipped_not_dicom, 1u);
  EXPECT_EQ(r->skipped_no_pixel_data, 1u);
  EXPECT_EQ(r->skipped_no_sop_class, 1u);
  EXPECT_EQ(r->skipped.size(), 3u);
  std::set<std::string> sops, studies, originals;
  std::set<std::string> syntaxes;
  uint64_t bytes = 0;
  for (const ReUidEntry& e : r->entries) {
    SCOPED_TRACE(e.source);
    for (const std::string* u : {&e.study_uid, &e.series_uid, &e.sop_instance_uid}) {
      EXPECT_TRUE(ValidateUid(*u).ok()) << *u;
    }
    EXPECT_TRUE(sops.insert(e.sop_instance_uid).second) << "SOP Instance UID reused";
    studies.insert(e.study_uid);
    originals.insert(e.original_sop_instance_uid);
    bytes += e.bytes;
    EXPECT_EQ(fs::file_size(e.output), e.bytes);
    EXPECT_EQ(fs::relative(e.output, out.path()).generic_string(),
              e.study_uid + "/" + e.series_uid + "/" + e.sop_instance_uid + ".dcm");
    auto src = Load(e.source);
    auto dst = Load(e.output);
    ASSERT_TRUE(src && dst);
    DcmDataset* s = src->getDataset();
    DcmDataset* d = dst->getDataset();
    // Transfer syntax and pixel data untouched (compressed fragments included).
    EXPECT_EQ(MetaSyntax(*dst), SourceSyntax(*src));
    EXPECT_EQ(e.transfer_syntax, SourceSyntax(*src));
    syntaxes.insert(e.transfer_syntax);
    EXPECT_TRUE(PixelBytes(d) == PixelBytes(s));
    EXPECT_FALSE(PixelBytes(d).empty());
    // New UIDs, in the dataset and the meta header.
    EXPECT_EQ(Str(d, DCM_StudyInstanceUID), e.study_uid);
    EXPECT_EQ(Str(d, DCM_SeriesInstanceUID), e.series_uid);
    EXPECT_EQ(Str(d, DCM_SOPInstanceUID), e.sop_instance_uid);
    EXPECT_EQ(Str(dst->getMetaInfo(), DCM_MediaStorageSOPInstanceUID), e.sop_instance_uid);
    EXPECT_NE(Str(d, DCM_SOPInstanceUID), Str(s, DCM_SOPInstanceUID));
    EXPECT_NE(Str(d, DCM_StudyInstanceUID), Str(s, DCM_StudyInstanceUID));
    EXPECT_EQ(e.original_sop_instance_uid, Str(s, DCM_SOPInstanceUID));
    // Everything else as it was.
    for (const DcmTagKey& t : {DCM_SOPClassUID, DCM_PatientName, DCM_PatientID, DCM_Rows,
                               DCM_Columns, DCM_InstanceNumber, DCM_FrameOfReferenceUID,
                               DCM_StudyDate, DCM_PixelSpacing, DCM_RescaleIntercept}) {
      EXPECT_EQ(Str(d, t), Str(s, t)) << t.toString();
    }
  }
  EXPECT_EQ(studies.size(), 6u) << "one study per file by default";
  EXPECT_EQ(originals.size(), 4u) << "a.dcm, its copy and its JPEG-LS transcode shared one UID";
  EXPECT_EQ(r->bytes, bytes);
  EXPECT_EQ(syntaxes.size(), 4u);  // explicit LE, implicit LE, big endian, JPEG-LS
  EXPECT_TRUE(syntaxes.count("1.2.840.10008.1.2.4.80"));
}

TEST_F(SampleCorpus, DeterministicPerSeed) {
  TempDir o1, o2, o3;
  auto r1 = ReUidSamples(Options(o1.path(), 5));
  auto r2 = ReUidSamples(Options(o2.path(), 5));
  auto r3 = ReUidSamples(Options(o3.path(), 6));
  ASSERT_TRUE(r1.ok() && r2.ok() && r3.ok());
  auto t1 = ReadTree(o1.path()), t2 = ReadTree(o2.path());
  EXPECT_EQ(t1.size(), 6u);
  EXPECT_TRUE(t1 == t2) << "same seed must give the same files";
  std::set<std::string> a, b;
  for (const auto& e : r1->entries) a.insert(e.sop_instance_uid);
  for (const auto& e : r3->entries) b.insert(e.sop_instance_uid);
  for (const auto& u : b) EXPECT_EQ(a.count(u), 0u) << "seed 6 reused " << u;
}

TEST_F(SampleCorpus, KeepGroupingMapsSharedStudiesTogether) {
  TempDir out;
  ReUidOptions o = Options(out.path());
  o.keep_grouping = true;
  o.layout = Layout::kFlat;
  auto r = ReUidSamples(o);
  ASSERT_TRUE(r.ok());
  std::map<std::string, std::string> study_of;
  std::set<std::string> sops;
  for (const auto& e : r->entries) {
    study_of[fs::path(e.source).filename().string()] = e.study_uid;
    sops.insert(e.sop_instance_uid);
    EXPECT_EQ(fs::path(e.output).parent_path(), fs::path(out.path()));
  }
  EXPECT_EQ(sops.size(), 6u);
  EXPECT_EQ(study_of["a.dcm"], study_of["a_copy.dcm"]);
  EXPECT_EQ(study_of["a.dcm"], study_of["a_jls.dcm"]);
  EXPECT_EQ(study_of["a.dcm"], study_of["b_impl.dcm"]);
  EXPECT_EQ(study_of["a.dcm"], study_of["c_be.dcm"]);
  EXPECT_NE(study_of["a.dcm"], study_of["mr.dcm"]);
}

TEST_F(SampleCorpus, ImplicitAndDeflatedVariantsForNativeFiles) {
  TempDir out;
  ReUidOptions o = Options(out.path());
  o.implicit_variant = true;
  o.deflated_variant = true;
  auto r = ReUidSamples(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // a, a_copy, c_be, mr: both variants; b_impl: deflated only; a_jls: none (compressed).
  EXPECT_EQ(r->variants, 9u);
  EXPECT_EQ(r->written, 15u);
  std::set<std::string> sops;
  for (const auto& e : r->entries) {
    sops.insert(e.sop_instance_uid);
    if (!e.variant) continue;
    SCOPED_TRACE(e.output);
    auto src = Load(e.source), dst = Load(e.output);
    ASSERT_TRUE(src && dst);
    EXPECT_TRUE(e.transfer_syntax == UID_LittleEndianImplicitTransferSyntax ||
                e.transfer_syntax == UID_DeflatedExplicitVRLittleEndianTransferSyntax);
    EXPECT_EQ(MetaSyntax(*dst), e.transfer_syntax);
    EXPECT_NE(e.transfer_syntax, SourceSyntax(*src));
    EXPECT_TRUE(PixelBytes(dst->getDataset()) == PixelBytes(src->getDataset()));
  }
  EXPECT_EQ(sops.size(), 15u);
}

TEST(SampleReUid, RejectsBadInput) {
  TempDir out;
  ReUidOptions o;
  o.out_dir = out.path();
  EXPECT_EQ(ReUidSamples(o).status().code(), Status::Code::kInvalidArgument);  // no inputs
  o.inputs = {out / "does-not-exist"};
  EXPECT_EQ(ReUidSamples(o).status().code(), Status::Code::kNotFound);
  o.inputs = {out.path()};
  o.uid_root = "1.2.3.";
  EXPECT_EQ(ReUidSamples(o).status().code(), Status::Code::kInvalidArgument);
}

// Checks what must hold for every re-identified real sample.
void ExpectFaithfulCopies(const ReUidReport& r) {
  EXPECT_EQ(r.scanned, r.written + r.skipped_not_dicom + r.skipped_no_sop_class +
                           r.skipped_no_pixel_data);
  std::set<std::string> sops;
  for (const auto& e : r.entries) {
    SCOPED_TRACE(e.source);
    EXPECT_TRUE(ValidateUid(e.sop_instance_uid).ok());
    EXPECT_TRUE(ValidateUid(e.study_uid).ok());
    EXPECT_TRUE(ValidateUid(e.series_uid).ok());
    EXPECT_TRUE(sops.insert(e.sop_instance_uid).second);
    auto src = Load(e.source), dst = Load(e.output);
    ASSERT_TRUE(src && dst);
    EXPECT_EQ(MetaSyntax(*dst), SourceSyntax(*src));
    EXPECT_TRUE(PixelBytes(dst->getDataset()) == PixelBytes(src->getDataset()));
    EXPECT_EQ(Str(dst->getDataset(), DCM_SOPClassUID), Str(src->getDataset(), DCM_SOPClassUID));
    EXPECT_EQ(Str(dst->getDataset(), DCM_SOPInstanceUID), e.sop_instance_uid);
  }
}

TEST(SampleReUid, OtherDebianSamples) {
  ReUidOptions o;
  for (const char* dir : kOtherDebianSamples) {
    if (fs::is_directory(dir)) o.inputs.push_back(dir);
  }
  if (o.inputs.empty()) GTEST_SKIP() << "no sample packages besides python3-pydicom installed";
  TempDir out;
  o.out_dir = out.path();
  o.seed = 10;
  auto r = ReUidSamples(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GE(r->written, 1u);
  ExpectFaithfulCopies(*r);
}

// The real files Debian ships with python3-pydicom: many encodings, compressed pixel data,
// shared SOP Instance UIDs, and plenty of files that are not images.
TEST(SampleReUid, DebianPydicomSamples) {
  if (!fs::is_directory(kPydicomSamples)) {
    GTEST_SKIP() << kPydicomSamples << " not present (Debian package python3-pydicom)";
  }
  TempDir out;
  ReUidOptions o;
  o.inputs = {kPydicomSamples};
  o.out_dir = out.path();
  o.seed = 9;
  auto r = ReUidSamples(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GE(r->written, 40u);
  EXPECT_GE(r->skipped_not_dicom, 3u);      // README.txt, *.json, zipMR.gz, ...
  EXPECT_GE(r->skipped_no_sop_class, 3u);   // DICOMDIRs, bare test datasets
  EXPECT_GE(r->skipped_no_pixel_data, 5u);  // RT plans, SR, ...
  ExpectFaithfulCopies(*r);
  std::set<std::string> originals, syntaxes;
  for (const auto& e : r->entries) {
    originals.insert(e.original_sop_instance_uid);
    syntaxes.insert(e.transfer_syntax);
  }
  EXPECT_LT(originals.size(), r->written) << "the samples share SOP Instance UIDs";
  EXPECT_GE(syntaxes.size(), 6u);
  EXPECT_TRUE(syntaxes.count("1.2.840.10008.1.2.5")) << "RLE kept";
  EXPECT_TRUE(syntaxes.count("1.2.840.10008.1.2.4.90") || syntaxes.count("1.2.840.10008.1.2.4.91"))
      << "JPEG 2000 kept";
}

}  // namespace
}  // namespace strata::testdata
