// kColor: Secondary Capture Image Storage, an RGB fusion screenshot.
#include "testdata/image_kind.h"

#include <algorithm>
#include <cmath>

#include <dcmtk/dcmdata/dcdeftag.h>

#include "testdata/dicom_values.h"
#include "testdata/phantoms.h"
#include "testdata/pixel_module.h"

namespace strata::testdata {

void BuildColorImage(const ImageContext& c, DsWriter& w) {
  const uint32_t rows = c.opt.rows, cols = c.opt.cols;
  const size_t pixels = static_cast<size_t>(rows) * cols;
  w.Str(DCM_ImageType, "DERIVED\\SECONDARY");
  w.Str(DCM_StudyDescription, "PET-CT FUSION REVIEW");
  w.Str(DCM_SeriesDescription, "FUSION SCREENSHOTS");
  w.Str(DCM_BodyPartExamined, "CHEST");
  PutSecondaryCapture(c, w);
  PutImagePixel(w, {3, "RGB", rows, cols, 8, 8, 0});
  if (Uint8* px = w.Bytes(pixels * 3)) {
    RenderFusionRgb(c.opt.seed, c.key.patient, c.key.study, c.key.series, c.key.instance, rows, cols, px);
  }
}

}  // namespace strata::testdata
