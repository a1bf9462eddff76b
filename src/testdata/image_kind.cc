#include "testdata/image_kind.h"

#include <array>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>

#include "testdata/dicom_values.h"

namespace strata::testdata {
namespace {

constexpr const char* kMultiFrameWordScStorage = "1.2.840.10008.5.1.4.1.1.7.3";

// In ImageKind order (kCt = 1 ...). Defaults: images per series, rows, columns, bits stored.
const std::array<ImageKindInfo, 5> kKinds = {{
    {ImageKind::kCt, "ct", UID_CTImageStorage, "CT", 100, 512, 512, 16, BuildCtImage},
    {ImageKind::kMr, "mr", UID_MRImageStorage, "MR", 24, 256, 256, 12, BuildMrImage},
    {ImageKind::kMultiFrame, "multiframe", kMultiFrameWordScStorage, "OT", 1, 256, 256, 12, BuildMultiFrameImage},
    {ImageKind::kColor, "color", UID_SecondaryCaptureImageStorage, "OT", 1, 480, 640, 8, BuildColorImage},
    {ImageKind::kMono1, "mono1", UID_ComputedRadiographyImageStorage, "CR", 1, 425, 345, 8, BuildMono1Image},
}};

}  // namespace

const ImageKindInfo* FindImageKind(ImageKind k) {
  for (const ImageKindInfo& info : kKinds) {
    if (info.kind == k) return &info;
  }
  return nullptr;
}

const ImageKindInfo& KindInfo(ImageKind k) {
  const ImageKindInfo* info = FindImageKind(k);
  return info ? *info : kKinds[0];  // callers pass validated kinds only
}

std::span<const ImageKindInfo> AllImageKinds() { return kKinds; }

const char* ImageKindName(ImageKind k) {
  const ImageKindInfo* info = FindImageKind(k);
  return info ? info->name : "?";
}

Result<ImageKind> ParseImageKind(const std::string& name) {
  for (const ImageKindInfo& info : kKinds) {
    if (name == info.name) return info.kind;
  }
  return Status::InvalidArgument("unknown image kind '" + name +
                                 "' (use ct, mr, multiframe, color or mono1)");
}

CtSeriesParams CtSeriesOf(const ImageContext& c) {
  CtSeriesParams cp;
  cp.seed = c.opt.seed;
  cp.patient = c.key.patient;
  cp.study = c.key.study;
  cp.series = c.key.series;
  cp.rows = c.opt.rows;
  cp.cols = c.opt.cols;
  return cp;
}

void PutSecondaryCapture(const ImageContext& c, DsWriter& w) {
  w.Str(DCM_ConversionType, "WSD");
  w.Str(DCM_DateOfSecondaryCapture, c.study_date);
  w.Str(DCM_TimeOfSecondaryCapture, FormatTime(c.content_secs));
  w.Str(DCM_PatientOrientation, "L\\P");
  w.Str(DCM_BurnedInAnnotation, "NO");
}

}  // namespace strata::testdata
