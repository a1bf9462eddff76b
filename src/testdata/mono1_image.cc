// kMono1: CR Image Storage, an 8-bit MONOCHROME1 PA chest radiograph.
#include "testdata/image_kind.h"

#include <algorithm>
#include <cmath>

#include <dcmtk/dcmdata/dcdeftag.h>

#include "testdata/dicom_values.h"
#include "testdata/phantoms.h"
#include "testdata/pixel_module.h"

namespace strata::testdata {

void BuildMono1Image(const ImageContext& c, DsWriter& w) {
  const uint32_t rows = c.opt.rows, cols = c.opt.cols;
  const size_t pixels = static_cast<size_t>(rows) * cols;
  w.Str(DCM_ImageType, "ORIGINAL\\PRIMARY");
  w.Str(DCM_StudyDescription, "XR CHEST PA");
  w.Str(DCM_SeriesDescription, "CHEST PA");
  w.Str(DCM_BodyPartExamined, "CHEST");
  w.Str(DCM_ViewPosition, "PA");
  w.Str(DCM_KVP, "125");
  w.Str(DCM_PatientOrientation, "L\\F");
  w.Str(DCM_AcquisitionDate, c.study_date);
  w.Str(DCM_AcquisitionTime, FormatTime(c.series_secs));
  PutImagePixel(w, {1, "MONOCHROME1", rows, cols, 8, 8, 0});
  w.Str(DCM_WindowCenter, "128");
  w.Str(DCM_WindowWidth, "256");
  if (Uint8* px = w.Bytes(pixels)) {
    double ps = RenderChestRadiographMono1(c.opt.seed, c.key.patient, c.key.study, c.key.series,
                                           c.key.instance, rows, cols, px);
    w.Str(DCM_ImagerPixelSpacing, SquareSpacing(ps));
    w.Str(DCM_PixelSpacing, SquareSpacing(ps));
  }
}

}  // namespace strata::testdata
