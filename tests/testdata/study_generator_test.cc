#include "testdata/study_generator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include <dcmtk/dcmdata/dcuid.h>

#include "model/uid.h"
#include "test_helpers.h"

namespace strata::testdata {
namespace {

using testing::Has;
using testing::ListFiles;
using testing::Load;
using testing::MetaSyntax;
using testing::PixelBytes;
using testing::ReadAll;
using testing::ReadTree;
using testing::Str;
using testing::TempDir;

GeneratorOptions Small(ImageKind kind = ImageKind::kCt, uint64_t seed = 11) {
  GeneratorOptions o;
  o.kind = kind;
  o.seed = seed;
  if (kind == ImageKind::kCt) {
    o.rows = o.cols = 64;
    o.images_per_series = 4;
  }
  return o;
}

StudyGenerator Make(const GeneratorOptions& o) {
  auto g = StudyGenerator::Create(o);
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  return std::move(g).value();
}

TEST(StudyGenerator, RejectsBadOptions) {
  auto bad = [](auto mutate) {
    GeneratorOptions o = Small();
    mutate(o);
    return StudyGenerator::Create(o).status().code();
  };
  using C = Status::Code;
  EXPECT_EQ(bad([](auto& o) { o.patients = 0; }), C::kInvalidArgument);
  EXPECT_EQ(bad([](auto& o) { o.series_per_study = 0; }), C::kInvalidArgument);
  EXPECT_EQ(bad([](auto& o) { o.study_date = "20231340"; }), C::kInvalidArgument);
  EXPECT_EQ(bad([](auto& o) { o.study_date = "2023-01-01"; }), C::kInvalidArgument);
  EXPECT_EQ(bad([](auto& o) { o.bits_stored = 13; }), C::kInvalidArgument);
  EXPECT_EQ(bad([](auto& o) { o.rows = 9000; }), C::kInvalidArgument);
  EXPECT_EQ(bad([](auto& o) { o.frames = 3; }), C::kInvalidArgument);  // CT is single-frame
  EXPECT_EQ(bad([](auto& o) { o.uid_root = "1.2.03.4"; }), C::kInvalidArgument);
  EXPECT_EQ(bad([](auto& o) { o.seed = UINT64_MAX; o.patients = 100000; o.uid_root = "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17"; }),
            C::kInvalidArgument);  // UIDs would exceed 64 characters
  EXPECT_TRUE(StudyGenerator::Create(Small()).ok());
}

TEST(StudyGenerator, KindDefaultsAreFilledIn) {
  EXPECT_EQ(Make(GeneratorOptions{}).options().rows, 512u);
  EXPECT_EQ(Make(GeneratorOptions{}).options().bits_stored, 16u);
  GeneratorOptions mr;
  mr.kind = ImageKind::kMr;
  EXPECT_EQ(Make(mr).options().cols, 256u);
  GeneratorOptions mf;
  mf.kind = ImageKind::kMultiFrame;
  EXPECT_EQ(Make(mf).options().frames, 10u);
}

TEST(StudyGenerator, SameSeedSameBytesDifferentSeedDifferentUids) {
  StudyGenerator a = Make(Small(ImageKind::kCt, 11));
  StudyGenerator b = Make(Small(ImageKind::kCt, 11));
  StudyGenerator c = Make(Small(ImageKind::kCt, 12));
  InstanceKey k{1, 1, 1, 3};
  auto ba = a.Encode(k), bb = b.Encode(k), bc = c.Encode(k);
  ASSERT_TRUE(ba.ok() && bb.ok() && bc.ok());
  EXPECT_EQ(*ba, *bb);
  EXPECT_NE(*ba, *bc);
  InstanceUids ua = a.Uids(k), uc = c.Uids(k);
  EXPECT_NE(ua.study, uc.study);
  EXPECT_NE(ua.series, uc.series);
  EXPECT_NE(ua.instance, uc.instance);
  EXPECT_NE(ua.frame_of_reference, uc.frame_of_reference);
  EXPECT_NE(a.PatientId(1), c.PatientId(1));
  // Another kind with the same seed never reuses a UID.
  StudyGenerator mr = Make(Small(ImageKind::kMr, 11));
  EXPECT_NE(mr.Uids(k).study, ua.study);
  EXPECT_NE(mr.Uids(k).instance, ua.instance);
}

TEST(StudyGenerator, OutputDoesNotDependOnThreadCount) {
  GeneratorOptions o = Small();
  o.patients = 2;
  o.series_per_study = 2;
  o.images_per_series = 3;
  StudyGenerator g = Make(o);
  TempDir d1, d2;
  WriteOptions w1{d1.path(), Layout::kHierarchical, 1};
  WriteOptions w2{d2.path(), Layout::kHierarchical, 2};
  auto s1 = g.WriteAll(w1);
  auto s2 = g.WriteAll(w2);
  ASSERT_TRUE(s1.ok()) << s1.status().ToString();
  ASSERT_TRUE(s2.ok()) << s2.status().ToString();
  EXPECT_EQ(s1->files, 12u);
  EXPECT_EQ(s2->threads, 2u);
  EXPECT_EQ(s1->bytes, s2->bytes);
  auto t1 = ReadTree(d1.path()), t2 = ReadTree(d2.path());
  EXPECT_EQ(t1.size(), 12u);
  EXPECT_TRUE(t1 == t2) << "thread count changed the output";
  ASSERT_EQ(s1->series.size(), 4u);
  uint64_t sum = 0;
  for (const auto& s : s1->series) {
    EXPECT_EQ(s.instances, 3u);
    sum += s.bytes;
  }
  EXPECT_EQ(sum, s1->bytes);
}

TEST(StudyGenerator, LayoutsAndManifest) {
  GeneratorOptions o = Small();
  o.images_per_series = 2;
  StudyGenerator g = Make(o);
  TempDir d;
  auto s = g.WriteAll({d.path(), Layout::kFlat, 2});
  ASSERT_TRUE(s.ok());
  InstanceKey k{1, 1, 1, 2};
  InstanceUids u = g.Uids(k);
  EXPECT_TRUE(std::filesystem::exists(d / (u.instance + ".dcm")));
  EXPECT_EQ(g.RelativePath(k, Layout::kHierarchical),
            u.study + "/" + u.series + "/" + u.instance + ".dcm");
  ASSERT_TRUE(WriteManifest(d / "manifest.tsv", *s).ok());
  std::string m = ReadAll(d / "manifest.tsv");
  EXPECT_NE(m.find(u.series), std::string::npos);
  EXPECT_EQ(std::count(m.begin(), m.end(), '\n'), 2);  // header + one series
}

TEST(StudyGenerator, UidsAreValidAndUnique) {
  std::set<std::string> seen;
  for (ImageKind kind : {ImageKind::kCt, ImageKind::kMr, ImageKind::kMultiFrame, ImageKind::kColor,
                         ImageKind::kMono1}) {
    GeneratorOptions o;
    o.kind = kind;
    o.seed = 4000000000ull;  // a long seed
    o.patients = 3;
    o.first_patient = 99998;
    o.studies_per_patient = 2;
    o.series_per_study = 2;
    o.images_per_series = 5;
    StudyGenerator g = Make(o);
    std::set<std::string> studies;
    for (uint64_t i = 0; i < g.instance_count(); ++i) {
      InstanceUids u = g.Uids(g.KeyAt(i));
      for (const std::string* s : {&u.study, &u.series, &u.instance, &u.frame_of_reference}) {
        EXPECT_TRUE(ValidateUid(*s).ok()) << *s << ": " << ValidateUid(*s).ToString();
      }
      EXPECT_TRUE(seen.insert(u.instance).second) << "duplicate " << u.instance;
      studies.insert(u.study);
      seen.insert(u.series);
    }
    EXPECT_EQ(studies.size(), 6u);
  }
}

TEST(StudyGenerator, KeyAtEnumeratesInOrder) {
  GeneratorOptions o = Small();
  o.patients = 2;
  o.first_patient = 5;
  o.studies_per_patient = 2;
  o.series_per_study = 3;
  o.images_per_series = 4;
  StudyGenerator g = Make(o);
  EXPECT_EQ(g.instance_count(), 48u);
  EXPECT_EQ(g.KeyAt(0), (InstanceKey{5, 1, 1, 1}));
  EXPECT_EQ(g.KeyAt(5), (InstanceKey{5, 1, 2, 2}));
  EXPECT_EQ(g.KeyAt(47), (InstanceKey{6, 2, 3, 4}));
  EXPECT_FALSE(g.Build({7, 1, 1, 1}).ok());
  EXPECT_FALSE(g.Build({5, 1, 1, 5}).ok());
}

// Type 1 attributes must have a value; type 2 must be present (possibly empty).
void ExpectModules(DcmDataset* ds, const std::vector<DcmTagKey>& type1,
                   const std::vector<DcmTagKey>& type2, const std::string& what) {
  for (const auto& t : type1) {
    EXPECT_FALSE(Str(ds, t).empty()) << what << ": type 1 " << t.toString() << " has no value";
  }
  for (const auto& t : type2) EXPECT_TRUE(Has(ds, t)) << what << ": type 2 " << t.toString() << " missing";
}

const std::vector<DcmTagKey> kCommon1 = {
    DCM_SOPClassUID,   DCM_SOPInstanceUID,       DCM_StudyInstanceUID, DCM_SeriesInstanceUID,
    DCM_Modality,      DCM_SpecificCharacterSet, DCM_SamplesPerPixel,  DCM_PhotometricInterpretation,
    DCM_Rows,          DCM_Columns,              DCM_BitsAllocated,    DCM_BitsStored,
    DCM_HighBit,       DCM_PixelRepresentation,  DCM_InstanceCreationDate, DCM_PatientName,
    DCM_PatientID,     DCM_PatientBirthDate,     DCM_PatientSex,       DCM_StudyDate,
    DCM_StudyTime,     DCM_AccessionNumber,      DCM_ReferringPhysicianName, DCM_StudyID,
    DCM_StudyDescription, DCM_SeriesNumber,      DCM_SeriesDescription, DCM_BodyPartExamined,
    DCM_InstanceNumber, DCM_Manufacturer};
const std::vector<DcmTagKey> kCommon2 = {DCM_PatientName, DCM_ReferringPhysicianName, DCM_AccessionNumber};

size_t ExpectedPixelLength(ImageKind kind, const GeneratorOptions& o) {
  size_t spp = kind == ImageKind::kColor ? 3 : 1;
  size_t bytes = o.bits_stored > 8 ? 2 : 1;
  size_t n = size_t(o.rows) * o.cols * spp * bytes * o.frames;
  return (n + 1) & ~size_t{1};
}

TEST(StudyGenerator, EveryKindWritesLoadableFilesWithMandatoryAttributes) {
  for (ImageKind kind : {ImageKind::kCt, ImageKind::kMr, ImageKind::kMultiFrame, ImageKind::kColor,
                         ImageKind::kMono1}) {
    SCOPED_TRACE(ImageKindName(kind));
    GeneratorOptions o;
    o.kind = kind;
    o.seed = 21;
    o.images_per_series = 2;
    StudyGenerator g = Make(o);
    const GeneratorOptions& eff = g.options();
    TempDir d;
    auto s = g.WriteAll({d.path(), Layout::kHierarchical, 2});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    auto files = ListFiles(d.path());
    ASSERT_EQ(files.size(), 2u);
    auto ff = Load(files[1]);
    ASSERT_TRUE(ff);
    DcmDataset* ds = ff->getDataset();
    ExpectModules(ds, kCommon1, kCommon2, ImageKindName(kind));
    EXPECT_EQ(MetaSyntax(*ff), UID_LittleEndianExplicitTransferSyntax);
    EXPECT_EQ(Str(ds, DCM_SOPClassUID), g.Uids(g.KeyAt(1)).sop_class);
    EXPECT_EQ(Str(ff->getMetaInfo(), DCM_MediaStorageSOPInstanceUID), Str(ds, DCM_SOPInstanceUID));
    EXPECT_EQ(testing::fs::path(files[1]).filename().string(), Str(ds, DCM_SOPInstanceUID) + ".dcm");
    EXPECT_EQ(PixelBytes(ds).size(), ExpectedPixelLength(kind, eff));
    Uint16 rows = 0, cols = 0;
    ds->findAndGetUint16(DCM_Rows, rows);
    ds->findAndGetUint16(DCM_Columns, cols);
    EXPECT_EQ(rows, eff.rows);
    EXPECT_EQ(cols, eff.cols);
    switch (kind) {
      case ImageKind::kCt:
        EXPECT_EQ(Str(ds, DCM_SOPClassUID), UID_CTImageStorage);
        ExpectModules(ds,
                      {DCM_ImageType, DCM_RescaleIntercept, DCM_RescaleSlope, DCM_FrameOfReferenceUID,
                       DCM_PixelSpacing, DCM_ImageOrientationPatient, DCM_ImagePositionPatient,
                       DCM_SliceThickness, DCM_SliceLocation, DCM_KVP, DCM_AcquisitionNumber,
                       DCM_WindowCenter, DCM_WindowWidth, DCM_ConvolutionKernel, DCM_PatientPosition},
                      {DCM_PositionReferenceIndicator}, "CT");
        EXPECT_EQ(Str(ds, DCM_Modality), "CT");
        EXPECT_EQ(Str(ds, DCM_ImageType), "ORIGINAL\\PRIMARY\\AXIAL");
        EXPECT_EQ(Str(ds, DCM_RescaleIntercept), "-1024");
        EXPECT_EQ(Str(ds, DCM_RescaleSlope), "1");
        EXPECT_EQ(Str(ds, DCM_PixelRepresentation), "1");
        EXPECT_EQ(Str(ds, DCM_BitsStored), "16");
        EXPECT_EQ(Str(ds, DCM_PhotometricInterpretation), "MONOCHROME2");
        break;
      case ImageKind::kMr:
        EXPECT_EQ(Str(ds, DCM_SOPClassUID), UID_MRImageStorage);
        ExpectModules(ds,
                      {DCM_ImageType, DCM_ScanningSequence, DCM_SequenceVariant, DCM_FrameOfReferenceUID,
                       DCM_PixelSpacing, DCM_ImageOrientationPatient, DCM_ImagePositionPatient,
                       DCM_EchoTime, DCM_RepetitionTime, DCM_MagneticFieldStrength},
                      {DCM_ScanOptions, DCM_MRAcquisitionType, DCM_EchoTrainLength, DCM_SliceThickness},
                      "MR");
        EXPECT_EQ(Str(ds, DCM_PixelRepresentation), "0");
        EXPECT_EQ(Str(ds, DCM_BitsAllocated), "16");
        break;
      case ImageKind::kMultiFrame:
        EXPECT_EQ(Str(ds, DCM_SOPClassUID), "1.2.840.10008.5.1.4.1.1.7.3");
        ExpectModules(ds,
                      {DCM_NumberOfFrames, DCM_FrameIncrementPointer, DCM_SliceLocationVector,
                       DCM_ConversionType, DCM_BurnedInAnnotation, DCM_RescaleIntercept},
                      {DCM_PatientOrientation}, "multi-frame");
        EXPECT_EQ(Str(ds, DCM_NumberOfFrames), "10");
        EXPECT_EQ(Str(ds, DCM_FrameIncrementPointer), "(0018,2005)");
        {
          // Frames are different slices, not copies.
          std::string px = PixelBytes(ds);
          size_t frame = px.size() / 10;
          EXPECT_NE(px.substr(0, frame), px.substr(frame, frame));
        }
        break;
      case ImageKind::kColor:
        EXPECT_EQ(Str(ds, DCM_SOPClassUID), UID_SecondaryCaptureImageStorage);
        EXPECT_EQ(Str(ds, DCM_PhotometricInterpretation), "RGB");
        EXPECT_EQ(Str(ds, DCM_SamplesPerPixel), "3");
        EXPECT_EQ(Str(ds, DCM_PlanarConfiguration), "0");
        ExpectModules(ds, {DCM_ConversionType}, {DCM_PatientOrientation}, "color");
        break;
      case ImageKind::kMono1:
        EXPECT_EQ(Str(ds, DCM_SOPClassUID), UID_ComputedRadiographyImageStorage);
        EXPECT_EQ(Str(ds, DCM_PhotometricInterpretation), "MONOCHROME1");
        EXPECT_EQ(Str(ds, DCM_BitsAllocated), "8");
        EXPECT_EQ(rows * cols % 2, 1) << "default mono1 size is odd: exercises the pad byte";
        ExpectModules(ds, {}, {DCM_ViewPosition, DCM_PatientOrientation}, "mono1");
        break;
    }
  }
}

TEST(StudyGenerator, CtPixelsLookLikeCt) {
  GeneratorOptions o;
  o.seed = 5;
  o.images_per_series = 60;
  StudyGenerator g = Make(o);
  for (uint32_t slice : {10u, 30u, 55u}) {
    auto ff = g.Build({1, 1, 1, slice});
    ASSERT_TRUE(ff.ok());
    DcmDataset* ds = (*ff)->getDataset();
    const Uint16* raw = nullptr;
    ASSERT_TRUE(ds->findAndGetUint16Array(DCM_PixelData, raw).good());
    Sint16 padding = 0;
    ASSERT_TRUE(ds->findAndGetSint16(DCM_PixelPaddingValue, padding).good());
    EXPECT_EQ(padding, -2000);
    const int16_t* px = reinterpret_cast<const int16_t*>(raw);
    int hu_min = 99999, hu_max = -99999, n = 0;
    double sum = 0, sum2 = 0;
    size_t padded = 0;
    for (size_t i = 0; i < 512 * 512; ++i) {
      if (px[i] == padding) {
        ++padded;
        continue;
      }
      int hu = px[i] - 1024;  // slope 1, intercept -1024
      hu_min = std::min(hu_min, hu);
      hu_max = std::max(hu_max, hu);
      sum += hu;
      sum2 += double(hu) * hu;
      ++n;
    }
    double mean = sum / n, sd = std::sqrt(sum2 / n - mean * mean);
    EXPECT_GE(hu_min, -1024);
    EXPECT_LE(hu_max, 3071);
    EXPECT_GT(hu_max, 500) << "bone present";
    EXPECT_GT(sd, 300) << "air, tissue and bone, not a constant image";
    EXPECT_GT(padded, 512u * 512 / 10) << "corners outside the reconstruction circle";
    // Noise: neighbouring pixels inside the body differ.
    int differ = 0, pairs = 0;
    for (size_t r = 200; r < 300; ++r) {
      for (size_t c = 200; c < 300; ++c) {
        ++pairs;
        differ += px[r * 512 + c] != px[r * 512 + c + 1];
      }
    }
    EXPECT_GT(differ, pairs * 9 / 10);
  }
}

TEST(StudyGenerator, SlicePositionsFollowTheSeries) {
  GeneratorOptions o = Small();
  o.images_per_series = 3;
  o.series_per_study = 2;
  StudyGenerator g = Make(o);
  auto z = [&](uint32_t series, uint32_t inst) {
    auto ff = g.Build({1, 1, series, inst});
    EXPECT_TRUE(ff.ok());
    Float64 v = 0;
    (*ff)->getDataset()->findAndGetFloat64(DCM_ImagePositionPatient, v, 2);
    Float64 loc = 0;
    (*ff)->getDataset()->findAndGetFloat64(DCM_SliceLocation, loc);
    EXPECT_DOUBLE_EQ(v, loc);
    return v;
  };
  EXPECT_NEAR(z(1, 1) - z(1, 2), 1.25, 1e-3);  // series 1: 1.25 mm
  EXPECT_NEAR(z(2, 2) - z(2, 3), 2.5, 1e-3);   // series 2: 2.5 mm
  auto ff = g.Build({1, 1, 2, 1});
  ASSERT_TRUE(ff.ok());
  EXPECT_EQ(Str((*ff)->getDataset(), DCM_SeriesDescription), "AXIAL 2.5mm LUNG");
}

TEST(StudyGenerator, StudyDateOptionMakesOldStudies) {
  GeneratorOptions o = Small();
  o.study_date = "19990314";
  o.studies_per_patient = 2;
  StudyGenerator g = Make(o);
  for (uint32_t study : {1u, 2u}) {
    auto ff = g.Build({1, study, 1, 1});
    ASSERT_TRUE(ff.ok());
    DcmDataset* ds = (*ff)->getDataset();
    EXPECT_EQ(Str(ds, DCM_StudyDate), "19990314");
    EXPECT_EQ(Str(ds, DCM_InstanceCreationDate), "19990314");
    EXPECT_LT(Str(ds, DCM_PatientBirthDate), "19990314");
    std::string age = Str(ds, DCM_PatientAge);
    ASSERT_EQ(age.size(), 4u);
    EXPECT_EQ(age.back(), 'Y');
  }
  // Without the option, dates are spread per study but fixed by the seed.
  StudyGenerator d = Make(Small());
  EXPECT_EQ(d.StudyDate({1, 1, 1, 1}), Make(Small()).StudyDate({1, 1, 1, 1}));
  EXPECT_GE(d.StudyDate({1, 1, 1, 1}), "20190101");
}

TEST(StudyGenerator, OtherTransferSyntaxesCarryTheSamePixels) {
  InstanceKey k{1, 1, 1, 2};
  GeneratorOptions base = Small();
  auto ref = Make(base).Build(k);
  ASSERT_TRUE(ref.ok());
  const std::string ref_px = PixelBytes((*ref)->getDataset());
  ASSERT_EQ(ref_px.size(), 64u * 64 * 2);
  for (OutputSyntax syn : {OutputSyntax::kExplicitLE, OutputSyntax::kImplicitLE,
                           OutputSyntax::kDeflatedLE, OutputSyntax::kExplicitBE}) {
    SCOPED_TRACE(OutputSyntaxUid(syn));
    GeneratorOptions o = base;
    o.syntax = syn;
    StudyGenerator g = Make(o);
    TempDir d;
    const std::string path = d / "x.dcm";
    auto size = g.WriteFile(k, path);
    ASSERT_TRUE(size.ok()) << size.status().ToString();
    const std::string file = ReadAll(path);
    EXPECT_EQ(*size, file.size());
    EXPECT_EQ(file.substr(128, 4), "DICM");
    auto enc = g.Encode(k);
    ASSERT_TRUE(enc.ok());
    EXPECT_TRUE(*enc == file) << "Encode() and WriteFile() differ";
    auto ff = Load(path);
    ASSERT_TRUE(ff);
    EXPECT_EQ(MetaSyntax(*ff), OutputSyntaxUid(syn));
    EXPECT_TRUE(PixelBytes(ff->getDataset()) == ref_px);
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  }
}

TEST(StudyGenerator, OddSizesPadPixelData) {
  for (ImageKind kind : {ImageKind::kCt, ImageKind::kMr, ImageKind::kColor, ImageKind::kMono1,
                         ImageKind::kMultiFrame}) {
    SCOPED_TRACE(ImageKindName(kind));
    GeneratorOptions o;
    o.kind = kind;
    o.rows = 37;
    o.cols = 51;
    o.images_per_series = 1;
    if (kind == ImageKind::kMultiFrame) o.frames = 3;
    StudyGenerator g = Make(o);
    TempDir d;
    auto size = g.WriteFile({1, 1, 1, 1}, d / "odd.dcm");
    ASSERT_TRUE(size.ok()) << size.status().ToString();
    auto ff = Load(d / "odd.dcm");
    ASSERT_TRUE(ff);
    EXPECT_EQ(PixelBytes(ff->getDataset()).size(), ExpectedPixelLength(kind, g.options()));
  }
}

TEST(StudyGenerator, WriteAllReportsErrors) {
  GeneratorOptions o = Small();
  StudyGenerator g = Make(o);
  TempDir d;
  testing::WriteAll(d / "file", "x");
  auto s = g.WriteAll({d / "file", Layout::kFlat, 1});  // output "directory" is a file
  EXPECT_FALSE(s.ok());
  std::atomic<bool> cancel{true};
  WriteOptions wo{d / "out", Layout::kFlat, 1};
  wo.cancel = &cancel;
  auto c = g.WriteAll(wo);
  EXPECT_EQ(c.status().code(), Status::Code::kUnavailable);
}

}  // namespace
}  // namespace strata::testdata
