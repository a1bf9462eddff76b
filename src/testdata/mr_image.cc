// kMr: MR Image Storage, 16-bit unsigned (12 stored), the head phantom; the series number cycles
// T1 SE / T2 TSE / FLAIR.
#include "testdata/image_kind.h"

#include <algorithm>
#include <cmath>

#include <dcmtk/dcmdata/dcdeftag.h>

#include "testdata/dicom_values.h"
#include "testdata/phantoms.h"
#include "testdata/pixel_module.h"

namespace strata::testdata {
namespace {

struct MrProtocol {
  const char* description;
  const char* scanning_sequence;
  const char* sequence_variant;
  const char* sequence_name;
  double tr, te, ti;
  int echo_train;
  double flip;
  const char* window_center;
  const char* window_width;
};
constexpr MrProtocol kMrProtocols[3] = {
    {"AX T1 SE", "SE", "NONE", "se2d1", 500, 12, 0, 1, 90, "600", "1200"},
    {"AX T2 TSE", "SE", "SK", "tse2d1_15", 4000, 100, 0, 15, 150, "900", "1800"},
    {"AX FLAIR", "SE\\IR", "SK\\MP", "tir2d1_15", 9000, 120, 2500, 15, 150, "650", "1300"},
};

}  // namespace

void BuildMrImage(const ImageContext& c, DsWriter& w) {
  const uint32_t rows = c.opt.rows, cols = c.opt.cols;
  const size_t pixels = static_cast<size_t>(rows) * cols;
  const MrProtocol& proto = kMrProtocols[(c.key.series - 1) % 3];
  MrSeriesParams mp;
  mp.seed = c.opt.seed;
  mp.patient = c.key.patient;
  mp.study = c.key.study;
  mp.series = c.key.series;
  mp.rows = rows;
  mp.cols = cols;
  mp.slices = c.opt.images_per_series;
  mp.sequence = static_cast<int>((c.key.series - 1) % 3);
  MrPhantom mr(mp);
  const uint32_t slice = c.key.instance - 1;
  const double z = mr.slice_z_mm(slice);
  const double ps = mr.pixel_spacing_mm();
  const double spacing = std::min(mr.slice_spacing_mm(), 170.0 / c.opt.images_per_series);
  w.Str(DCM_ImageType, "ORIGINAL\\PRIMARY\\M\\ND");
  w.Str(DCM_AcquisitionDate, c.study_date);
  w.Str(DCM_AcquisitionTime, FormatTime(c.series_secs));
  w.Str(DCM_StudyDescription, "MR BRAIN W/O CONTRAST");
  w.Str(DCM_SeriesDescription, proto.description);
  w.Str(DCM_BodyPartExamined, "HEAD");
  w.Str(DCM_ScanningSequence, proto.scanning_sequence);
  w.Str(DCM_SequenceVariant, proto.sequence_variant);
  w.Str(DCM_ScanOptions, "");
  w.Str(DCM_MRAcquisitionType, "2D");
  w.Str(DCM_SequenceName, proto.sequence_name);
  w.Str(DCM_AngioFlag, "N");
  w.Str(DCM_SliceThickness, Ds(spacing * 5.0 / 6.0, 3));
  w.Str(DCM_RepetitionTime, Ds(proto.tr, 1));
  w.Str(DCM_EchoTime, Ds(proto.te, 1));
  if (proto.ti > 0) w.Str(DCM_InversionTime, Ds(proto.ti, 1));
  w.Str(DCM_NumberOfAverages, "1");
  w.Str(DCM_ImagingFrequency, "63.869");
  w.Str(DCM_ImagedNucleus, "1H");
  w.Str(DCM_EchoNumbers, "1");
  w.Str(DCM_MagneticFieldStrength, "1.5");
  w.Str(DCM_SpacingBetweenSlices, Ds(spacing, 3));
  w.Str(DCM_EchoTrainLength, std::to_string(proto.echo_train));
  w.Str(DCM_PixelBandwidth, "130");
  w.Str(DCM_FlipAngle, Ds(proto.flip, 1));
  PutAxialPlane(w, mr.origin_x_mm(), mr.origin_y_mm(), z, c.uid.frame_of_reference, ps);
  PutImagePixel(w, {1, "MONOCHROME2", rows, cols, 16, static_cast<uint16_t>(c.opt.bits_stored), 0});
  w.Str(DCM_WindowCenter, proto.window_center);
  w.Str(DCM_WindowWidth, proto.window_width);
  if (Uint16* px = w.Words(pixels)) {
    mr.Render(slice, static_cast<uint16_t>((1u << c.opt.bits_stored) - 1), px);
  }
}

}  // namespace strata::testdata
