// kMultiFrame: Multi-frame Grayscale Word SC Image Storage, CT-derived frames with a Slice
// Location Vector.
#include "testdata/image_kind.h"

#include <algorithm>
#include <cmath>
#include <string>

#include <dcmtk/dcmdata/dcdeftag.h>

#include "testdata/dicom_values.h"
#include "testdata/phantoms.h"
#include "testdata/pixel_module.h"

namespace strata::testdata {

void BuildMultiFrameImage(const ImageContext& c, DsWriter& w) {
  const uint32_t rows = c.opt.rows, cols = c.opt.cols;
  const size_t pixels = static_cast<size_t>(rows) * cols;
  CtSeriesParams cp = CtSeriesOf(c);
  cp.slices = c.opt.frames * c.opt.images_per_series;
  cp.thickness_mm = 5.0;
  CtPhantom ct(cp);
  const double ps = ct.pixel_spacing_mm();
  std::string locations;
  for (uint32_t f = 0; f < c.opt.frames; ++f) {
    if (f) locations += "\\";
    locations += Ds(ct.slice_z_mm((c.key.instance - 1) * c.opt.frames + f), 3);
  }
  w.Str(DCM_ImageType, "DERIVED\\SECONDARY\\AXIAL");
  w.Str(DCM_StudyDescription, "CT CHEST ABDOMEN PELVIS");
  w.Str(DCM_SeriesDescription, "MULTIFRAME 5mm SC");
  w.Str(DCM_BodyPartExamined, "CHEST");
  PutSecondaryCapture(c, w);
  w.Str(DCM_PresentationLUTShape, "IDENTITY");
  w.Str(DCM_NumberOfFrames, std::to_string(c.opt.frames));
  w.At(DCM_FrameIncrementPointer, DCM_SliceLocationVector);
  w.Str(DCM_SliceLocationVector, locations);
  w.Str(DCM_NominalScannedPixelSpacing, SquareSpacing(ps));
  w.Str(DCM_PixelSpacing, SquareSpacing(ps));
  PutImagePixel(w, {1, "MONOCHROME2", rows, cols, 16, static_cast<uint16_t>(c.opt.bits_stored), 0});
  w.Str(DCM_WindowCenter, "40");  // after the rescale, in HU
  w.Str(DCM_WindowWidth, "400");
  w.Str(DCM_RescaleIntercept, "-1024");
  w.Str(DCM_RescaleSlope, "1");
  w.Str(DCM_RescaleType, "HU");
  if (Uint16* px = w.Words(pixels * c.opt.frames)) {
    const uint16_t max_stored = static_cast<uint16_t>(std::min(4095u, (1u << c.opt.bits_stored) - 1));
    for (uint32_t f = 0; f < c.opt.frames; ++f) {
      ct.RenderStoredUnsigned((c.key.instance - 1) * c.opt.frames + f, max_stored, px + f * pixels);
    }
  }
}

}  // namespace strata::testdata
