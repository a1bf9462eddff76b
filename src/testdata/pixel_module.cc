#include "testdata/pixel_module.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include "testdata/dicom_values.h"

namespace strata::testdata {

void PutImagePixel(DsWriter& w, const PixelFormat& f) {
  w.U16(DCM_SamplesPerPixel, f.samples);
  w.Str(DCM_PhotometricInterpretation, f.photometric);
  if (f.samples > 1) w.U16(DCM_PlanarConfiguration, 0);
  w.U16(DCM_Rows, static_cast<Uint16>(f.rows));
  w.U16(DCM_Columns, static_cast<Uint16>(f.cols));
  w.U16(DCM_BitsAllocated, f.bits_allocated);
  w.U16(DCM_BitsStored, f.bits_stored);
  w.U16(DCM_HighBit, static_cast<Uint16>(f.bits_stored - 1));
  w.U16(DCM_PixelRepresentation, f.pixel_representation);
}

void PutAxialPlane(DsWriter& w, double origin_x, double origin_y, double z, const std::string& frame_of_ref,
                   double ps) {
  w.Str(DCM_PatientPosition, "HFS");
  w.Str(DCM_AcquisitionNumber, "1");
  w.Str(DCM_ImagePositionPatient, Ds(origin_x, 3) + "\\" + Ds(origin_y, 3) + "\\" + Ds(z, 3));
  w.Str(DCM_ImageOrientationPatient, "1\\0\\0\\0\\1\\0");
  w.Str(DCM_FrameOfReferenceUID, frame_of_ref);
  w.Str(DCM_PositionReferenceIndicator, "");
  w.Str(DCM_SliceLocation, Ds(z, 3));
  w.Str(DCM_PixelSpacing, SquareSpacing(ps));
}

std::string SquareSpacing(double ps) { return Ds(ps) + "\\" + Ds(ps); }

}  // namespace strata::testdata
