#include "codec/image_info.h"

#include <fmt/format.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcitem.h>

namespace strata::codec {
namespace {

Status GetUS(DcmItem& item, const DcmTagKey& tag, const char* name, uint32_t* out) {
  Uint16 v = 0;
  if (item.findAndGetUint16(tag, v).bad()) {
    return Status::InvalidArgument(std::string("missing or bad ") + name);
  }
  *out = v;
  return Status::OK();
}

}  // namespace

Result<ImageInfo> ReadImageInfo(DcmItem& item) {
  ImageInfo info;
  STRATA_RETURN_IF_ERROR(GetUS(item, DCM_Rows, "Rows", &info.rows));
  STRATA_RETURN_IF_ERROR(GetUS(item, DCM_Columns, "Columns", &info.columns));
  STRATA_RETURN_IF_ERROR(GetUS(item, DCM_SamplesPerPixel, "SamplesPerPixel", &info.samples_per_pixel));
  STRATA_RETURN_IF_ERROR(GetUS(item, DCM_BitsAllocated, "BitsAllocated", &info.bits_allocated));
  STRATA_RETURN_IF_ERROR(GetUS(item, DCM_BitsStored, "BitsStored", &info.bits_stored));
  STRATA_RETURN_IF_ERROR(GetUS(item, DCM_HighBit, "HighBit", &info.high_bit));
  STRATA_RETURN_IF_ERROR(
      GetUS(item, DCM_PixelRepresentation, "PixelRepresentation", &info.pixel_representation));
  if (info.samples_per_pixel > 1) {
    // Type 1C; absent in some colour files: colour-by-pixel is the only sensible reading.
    Uint16 pc = 0;
    if (item.findAndGetUint16(DCM_PlanarConfiguration, pc).good()) info.planar_configuration = pc;
  }
  OFString photometric;
  if (item.findAndGetOFString(DCM_PhotometricInterpretation, photometric).bad()) {
    return Status::InvalidArgument("missing PhotometricInterpretation");
  }
  info.photometric = photometric.c_str();
  Sint32 frames = 1;
  if (item.findAndGetSint32(DCM_NumberOfFrames, frames).good()) {
    if (frames < 1) return Status::InvalidArgument("NumberOfFrames " + std::to_string(frames));
    info.frames = static_cast<uint32_t>(frames);
  }
  if (info.rows == 0 || info.columns == 0) return Status::InvalidArgument("empty image (Rows or Columns 0)");
  if (info.pixel_representation > 1) {
    return Status::InvalidArgument("PixelRepresentation " + std::to_string(info.pixel_representation));
  }
  return info;
}

Status CheckWaveletLayout(const ImageInfo& info) {
  if (info.samples_per_pixel != 1 && info.samples_per_pixel != 3) {
    return Status::InvalidArgument(fmt::format("{} samples per pixel", info.samples_per_pixel));
  }
  if (info.bits_allocated != 8 && info.bits_allocated != 16) {
    return Status::InvalidArgument(fmt::format("Bits Allocated {}", info.bits_allocated));
  }
  if (info.bits_stored < 1 || info.bits_stored > info.bits_allocated) {
    return Status::InvalidArgument(fmt::format("Bits Stored {}", info.bits_stored));
  }
  return Status::OK();
}

}  // namespace strata::codec
