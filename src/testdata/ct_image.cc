// kCt: CT Image Storage, 16-bit signed, the chest-abdomen-pelvis phantom; the series number picks
// the protocol (thickness, kernel, noise).
#include "testdata/image_kind.h"

#include <algorithm>
#include <cmath>

#include <dcmtk/dcmdata/dcdeftag.h>

#include "testdata/dicom_values.h"
#include "testdata/phantoms.h"
#include "testdata/pixel_module.h"

namespace strata::testdata {
namespace {

constexpr int16_t kCtPadding = -2000;

// Per-series CT protocol: slice thickness, kernel and the noise it implies.
struct CtProtocol {
  double thickness;
  const char* kernel;
  double noise;
};
CtProtocol CtProtocolFor(uint32_t series) {
  static constexpr CtProtocol kProtocols[] = {
      {1.25, "STANDARD", 1.0}, {2.5, "LUNG", 1.5}, {5.0, "BONE", 1.3}, {0.625, "SOFT", 0.8}};
  CtProtocol p = kProtocols[(series - 1) % 4];
  p.noise *= std::sqrt(1.25 / p.thickness);
  return p;
}

}  // namespace

void BuildCtImage(const ImageContext& c, DsWriter& w) {
  const uint32_t rows = c.opt.rows, cols = c.opt.cols;
  const size_t pixels = static_cast<size_t>(rows) * cols;
  const CtProtocol proto = CtProtocolFor(c.key.series);
  CtSeriesParams cp = CtSeriesOf(c);
  cp.slices = c.opt.images_per_series;
  cp.thickness_mm = proto.thickness;
  cp.noise_scale = proto.noise;
  CtPhantom ct(cp);
  const uint32_t slice = c.key.instance - 1;
  const double z = ct.slice_z_mm(slice);
  const double ps = ct.pixel_spacing_mm();
  w.Str(DCM_ImageType, "ORIGINAL\\PRIMARY\\AXIAL");
  w.Str(DCM_AcquisitionDate, c.study_date);
  w.Str(DCM_AcquisitionTime, FormatTime(c.series_secs));
  w.Str(DCM_StudyDescription, c.habitus.contrast_hu > 40 ? "CT CHEST ABDOMEN PELVIS W CONTRAST"
                                                   : "CT CHEST ABDOMEN PELVIS");
  w.Str(DCM_SeriesDescription, "AXIAL " + Ds(proto.thickness, 3) + "mm " + proto.kernel);
  w.Str(DCM_BodyPartExamined, "CHEST");
  w.Str(DCM_ScanOptions, "HELICAL MODE");
  w.Str(DCM_SliceThickness, Ds(proto.thickness, 3));
  w.Str(DCM_KVP, "120");
  w.Str(DCM_SpacingBetweenSlices, Ds(proto.thickness, 3));
  w.Str(DCM_DataCollectionDiameter, "500");
  w.Str(DCM_ReconstructionDiameter, Ds(ct.fov_mm(), 1));
  w.Str(DCM_DistanceSourceToDetector, "1040");
  w.Str(DCM_DistanceSourceToPatient, "570");
  w.Str(DCM_GantryDetectorTilt, "0");
  w.Str(DCM_TableHeight, "160");
  w.Str(DCM_RotationDirection, "CW");
  w.Str(DCM_ExposureTime, "500");
  w.Str(DCM_XRayTubeCurrent, "250");
  w.Str(DCM_Exposure, "125");
  w.Str(DCM_FilterType, "BODY FILTER");
  w.Str(DCM_ConvolutionKernel, proto.kernel);
  PutAxialPlane(w, ct.origin_x_mm(), ct.origin_y_mm(), z, c.uid.frame_of_reference, ps);
  PutImagePixel(w, {1, "MONOCHROME2", rows, cols, 16, static_cast<uint16_t>(c.opt.bits_stored), 1});
  w.S16(DCM_PixelPaddingValue, kCtPadding);
  w.Str(DCM_WindowCenter, "40\\-600");
  w.Str(DCM_WindowWidth, "400\\1500");
  w.Str(DCM_WindowCenterWidthExplanation, "SOFT TISSUE\\LUNG");
  w.Str(DCM_RescaleIntercept, "-1024");
  w.Str(DCM_RescaleSlope, "1");
  w.Str(DCM_RescaleType, "HU");
  if (Uint16* px = w.Words(pixels)) {
    const int32_t max_stored = c.opt.bits_stored >= 16 ? 4095 : 2047;
    ct.RenderStored(slice, max_stored, kCtPadding, reinterpret_cast<int16_t*>(px));
  }
}

}  // namespace strata::testdata
