#include "codec/pixel_transcode.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmjpls/djrparam.h>

#include <fmt/format.h>

#include <optional>
#include <span>
#include <vector>

#include "codec/dcmtk_codecs.h"
#include "codec/encapsulation.h"
#include "codec/htj2k_codec.h"
#include "codec/image_info.h"
#include "codec/j2k_codec.h"
#include "codec/jpegls_header.h"
#include "codec/native_samples.h"

namespace strata::codec {
namespace {

constexpr std::string_view kNotCompressible = "not compressible: ";

DcmPixelData* FindPixelData(DcmDataset& dataset) {
  DcmElement* elem = nullptr;
  if (dataset.findAndGetElement(DCM_PixelData, elem, /*searchIntoSub=*/OFFalse).bad() || elem == nullptr) {
    return nullptr;
  }
  if (elem->ident() != EVR_PixelData) return nullptr;
  return static_cast<DcmPixelData*>(elem);
}

bool HasNativeRepresentation(DcmPixelData& pd) {
  return pd.canWriteXfer(EXS_LittleEndianExplicit, EXS_Unknown) != OFFalse;
}

std::vector<uint64_t> ExtendedOffsets(DcmDataset& dataset) {
  DcmElement* elem = nullptr;
  if (dataset.findAndGetElement(DCM_ExtendedOffsetTable, elem, OFFalse).bad() || elem == nullptr) return {};
  Uint64* values = nullptr;
  if (elem->getUint64Array(values).bad() || values == nullptr) return {};
  return std::vector<uint64_t>(values, values + elem->getLength() / 8);
}

void DropExtendedOffsetTable(DcmDataset& dataset) {
  dataset.findAndDeleteElement(DCM_ExtendedOffsetTable, OFFalse, OFFalse);
  dataset.findAndDeleteElement(DCM_ExtendedOffsetTableLengths, OFFalse, OFFalse);
}

Status AppendMultiValued(DcmDataset& dataset, const DcmTagKey& tag, const std::string& value) {
  OFString existing;
  std::string joined = value;
  if (dataset.findAndGetOFStringArray(tag, existing).good() && !existing.empty()) {
    joined = std::string(existing.c_str()) + "\\" + value;
  }
  if (dataset.putAndInsertString(tag, joined.c_str()).bad()) return Status::Internal("cannot set lossy attributes");
  return Status::OK();
}

// PS3.3 C.7.6.1.1.5: the image has now been lossy compressed (ratio and method accumulate).
Status MarkLossy(DcmDataset& dataset, double ratio, const char* method) {
  if (dataset.putAndInsertString(DCM_LossyImageCompression, "01").bad()) {
    return Status::Internal("cannot set Lossy Image Compression");
  }
  STRATA_RETURN_IF_ERROR(AppendMultiValued(dataset, DCM_LossyImageCompressionRatio, fmt::format("{:.2f}", ratio)));
  return AppendMultiValued(dataset, DCM_LossyImageCompressionMethod, method);
}

// The Lossy Image Compression trio as found, to put back what DCMTK's decoders change: the
// JPEG-LS near-lossless decoder marks every image it decodes lossy, NEAR=0 ones too.
struct LossyAttributes {
  std::optional<std::string> values[3];
  static const DcmTagKey& Tag(int i) {
    static const DcmTagKey tags[3] = {DCM_LossyImageCompression, DCM_LossyImageCompressionRatio,
                                      DCM_LossyImageCompressionMethod};
    return tags[i];
  }

  static LossyAttributes Of(DcmDataset& dataset) {
    LossyAttributes a;
    for (int i = 0; i < 3; ++i) {
      OFString v;
      if (dataset.findAndGetOFStringArray(Tag(i), v).good()) a.values[i] = v.c_str();
    }
    return a;
  }
  void RestoreInto(DcmDataset& dataset) const {
    for (int i = 0; i < 3; ++i) {
      if (values[i]) {
        dataset.putAndInsertString(Tag(i), values[i]->c_str());
      } else {
        dataset.findAndDeleteElement(Tag(i), OFFalse, OFFalse);
      }
    }
  }
  bool lossy() const { return values[0] && *values[0] == "01"; }
};

// The frames of the (original) encapsulated representation of `pd`.
Result<std::vector<std::string>> EncapsulatedFrames(DcmDataset& dataset, DcmPixelData& pd, uint32_t frames,
                                                    FrameStartTest starts_frame) {
  E_TransferSyntax rep_xfer = EXS_Unknown;
  const DcmRepresentationParameter* rep_param = nullptr;
  pd.getOriginalRepresentationKey(rep_xfer, rep_param);
  DcmPixelSequence* seq = nullptr;
  if (!DcmXfer(rep_xfer).isEncapsulated() || pd.getEncapsulatedRepresentation(rep_xfer, rep_param, seq).bad() ||
      seq == nullptr) {
    return Status::NotFound("pixel data is not encapsulated");
  }
  return ExtractFrames(*seq, frames, ExtendedOffsets(dataset), starts_frame);
}

// Bytes in the fragments of the original encapsulated representation (0 if there is none).
uint64_t EncapsulatedBytes(DcmPixelData& pd) {
  E_TransferSyntax rep_xfer = EXS_Unknown;
  const DcmRepresentationParameter* rep_param = nullptr;
  pd.getOriginalRepresentationKey(rep_xfer, rep_param);
  DcmPixelSequence* seq = nullptr;
  if (!DcmXfer(rep_xfer).isEncapsulated() || pd.getEncapsulatedRepresentation(rep_xfer, rep_param, seq).bad() ||
      seq == nullptr) {
    return 0;
  }
  uint64_t total = 0;
  for (unsigned long i = 1; i < seq->card(); ++i) {
    DcmPixelItem* item = nullptr;
    if (seq->getItem(item, i).good() && item != nullptr) total += item->getLength();
  }
  return total;
}

bool IsJpegFrameStart(std::string_view fragment) {
  return fragment.size() >= 2 && static_cast<uint8_t>(fragment[0]) == 0xFF && static_cast<uint8_t>(fragment[1]) == 0xD8;
}

// For JPEG-LS near-lossless data: whether any frame was coded with NEAR > 0, and the ratio.
Result<std::optional<double>> JpegLsLossyRatio(DcmDataset& dataset, DcmPixelData& pd) {
  STRATA_ASSIGN_OR_RETURN(ImageInfo info, ReadImageInfo(dataset));
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> frames,
                          EncapsulatedFrames(dataset, pd, info.frames, IsJpegFrameStart));
  int max_near = 0;
  uint64_t coded = 0;
  for (const std::string& f : frames) {
    STRATA_ASSIGN_OR_RETURN(int near, JpegLsMaxNear(f));
    max_near = std::max(max_near, near);
    coded += f.size();
  }
  if (max_near == 0) return std::optional<double>();
  return std::optional<double>(double(info.frame_bytes()) * info.frames / double(std::max<uint64_t>(coded, 1)));
}

Status CheckCompressible(DcmDataset& dataset, DcmPixelData& pd, const ImageInfo& info) {
  OFString lossy;
  if (dataset.findAndGetOFString(DCM_LossyImageCompression, lossy).good() && lossy == "01") {
    return NotCompressible("already lossy-compressed (Lossy Image Compression 01)");
  }
  if (info.samples_per_pixel != 1 && info.samples_per_pixel != 3) {
    return NotCompressible(fmt::format("{} samples per pixel", info.samples_per_pixel));
  }
  if (info.bits_allocated != 8 && info.bits_allocated != 16) {
    return NotCompressible(fmt::format("Bits Allocated {}", info.bits_allocated));
  }
  if (info.bits_stored < 1 || info.bits_stored > info.bits_allocated || info.high_bit + 1 != info.bits_stored) {
    return NotCompressible(fmt::format("Bits Stored {} with High Bit {}", info.bits_stored, info.high_bit));
  }
  const std::string& pi = info.photometric;
  const bool ok_photometric =
      info.samples_per_pixel == 1 ? (pi == "MONOCHROME1" || pi == "MONOCHROME2" || pi == "PALETTE COLOR")
                                  : (pi == "RGB" || pi == "YBR_FULL");
  if (!ok_photometric) {
    return NotCompressible(fmt::format("Photometric Interpretation {} with {} samples per pixel", pi,
                                       info.samples_per_pixel));
  }
  const uint64_t expected = uint64_t{info.frame_bytes()} * info.frames;
  const uint64_t length = pd.getLength(EXS_LittleEndianExplicit, EET_ExplicitLength);
  if (length != expected && length != expected + (expected & 1)) {
    return NotCompressible(fmt::format("Pixel Data holds {} bytes, the image attributes describe {}", length, expected));
  }
  return Status::OK();
}

std::span<const uint8_t> NativePixels(DcmPixelData& pd, const ImageInfo& info) {
  Uint8* data = nullptr;
  if (pd.getUint8Array(data).bad() || data == nullptr) return {};
  return {data, size_t{info.frame_bytes()} * info.frames};
}

using FrameEncoder = Result<std::string> (*)(const ImageInfo&, std::span<const uint8_t>, const TranscodeOptions&,
                                             bool lossy);
using FrameDecoder = Status (*)(const ImageInfo&, std::string_view, std::span<uint8_t>);

Result<std::string> EncodeJ2k(const ImageInfo& info, std::span<const uint8_t> frame, const TranscodeOptions& o,
                              bool lossy) {
  J2kEncodeParams p;
  p.reversible = !lossy;
  p.compression_ratio = o.j2k_lossy_ratio;
  p.color_transform = o.color_transform;
  return EncodeJ2kFrame(info, frame, p);
}

Result<std::string> EncodeHtj2k(const ImageInfo& info, std::span<const uint8_t> frame, const TranscodeOptions& o,
                                bool /*lossy*/) {
  Htj2kEncodeParams p;
  p.color_transform = o.color_transform;
  return EncodeHtj2kFrame(info, frame, p);
}

Status EncodeWithDcmtk(DcmDataset& dataset, DcmPixelData& pd, const SyntaxInfo& target, const TranscodeOptions& o) {
  RegisterDcmtkCodecs();
  const bool lossy = o.allow_lossy && target.uid == ts::kJpegLsNearLossless && o.jpegls_near > 0;
  DJLSRepresentationParameter param(lossy ? o.jpegls_near : 0, /*losslessProcess=*/!lossy);
  OFCondition c = dataset.chooseRepresentation(target.dcmtk_xfer, &param);
  if (c.bad() || !pd.canWriteXfer(target.dcmtk_xfer, EXS_LittleEndianExplicit)) {
    // DCMTK refuses images its encoder does not support; report them as not compressible.
    return NotCompressible(fmt::format("DCMTK {} encoder: {}", target.name, c.bad() ? c.text() : "refused"));
  }
  pd.removeAllButCurrentRepresentations();
  if (lossy) {
    // DCMTK's near-lossless encoder records ratio and method itself; make sure of the flag.
    OFString flag;
    if (dataset.findAndGetOFString(DCM_LossyImageCompression, flag).bad() || flag != "01") {
      return Status::Internal("JPEG-LS near-lossless result lacks Lossy Image Compression 01");
    }
  }
  return Status::OK();
}

}  // namespace

Status NotCompressible(std::string_view why) {
  return Status::InvalidArgument(std::string(kNotCompressible) + std::string(why));
}

bool IsNotCompressible(const Status& status) {
  return status.code() == Status::Code::kInvalidArgument && status.message().starts_with(kNotCompressible);
}

Status DecodePixelData(DcmDataset& dataset, const SyntaxInfo& source) {
  if (!source.encapsulated()) return Status::OK();
  DcmPixelData* pd = FindPixelData(dataset);
  if (pd == nullptr) return Status::OK();
  if (source.engine == Engine::kDcmtk) {
    RegisterDcmtkCodecs();
    const LossyAttributes before = LossyAttributes::Of(dataset);
    std::optional<double> near_lossy_ratio;
    std::optional<double> jpeg_lossy_ratio;
    if (source.lossiness == Lossiness::kLossy && !before.lossy()) {
      Result<ImageInfo> info = ReadImageInfo(dataset);
      const uint64_t coded = EncapsulatedBytes(*pd);
      if (info.ok() && coded > 0) jpeg_lossy_ratio = double(info->frame_bytes()) * info->frames / double(coded);
    }
    if (source.uid == ts::kJpegLsNearLossless) {
      Result<std::optional<double>> r = JpegLsLossyRatio(dataset, *pd);
      if (!r.ok() && !r.status().IsNotFound()) return r.status();
      if (r.ok()) near_lossy_ratio = *r;
    }
    OFCondition c = dataset.chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
    if (c.bad() || !HasNativeRepresentation(*pd)) {
      return Status::Corruption(fmt::format("{} decode: {}", source.name, c.bad() ? c.text() : "no result"));
    }
    pd->removeAllButCurrentRepresentations();
    DropExtendedOffsetTable(dataset);
    // Decoding does not change how lossy the image is.
    before.RestoreInto(dataset);
    if (near_lossy_ratio && !before.lossy()) {
      // Near-lossless data that arrived unmarked (the sender broke PS3.3 C.7.6.1.1.5).
      STRATA_RETURN_IF_ERROR(MarkLossy(dataset, *near_lossy_ratio, "ISO_14495_1"));
    }
    if (jpeg_lossy_ratio) {
      // Lossy JPEG that arrived unmarked: the decoded image must say what it has been through.
      STRATA_RETURN_IF_ERROR(MarkLossy(dataset, *jpeg_lossy_ratio, "ISO_10918_1"));
    }
    return Status::OK();
  }

  if (HasNativeRepresentation(*pd)) return Status::OK();  // stored native despite the syntax
  Result<ImageInfo> info_or = ReadImageInfo(dataset);
  if (!info_or.ok()) return info_or.status();
  const ImageInfo& info = *info_or;
  if ((info.samples_per_pixel != 1 && info.samples_per_pixel != 3) ||
      (info.bits_allocated != 8 && info.bits_allocated != 16)) {
    return Status::InvalidArgument(fmt::format("{} decoding supports 1 or 3 samples of 8 or 16 bits, not {} of {}",
                                               source.name, info.samples_per_pixel, info.bits_allocated));
  }
  Result<std::vector<std::string>> frames_or = EncapsulatedFrames(dataset, *pd, info.frames, IsJ2kFrameStart);
  if (!frames_or.ok()) {
    return frames_or.status().IsNotFound() ? Status::Corruption("pixel data has no value") : frames_or.status();
  }
  const std::vector<std::string> frames = std::move(frames_or).value();

  ImageInfo out_info = info;
  out_info.planar_configuration = 0;
  const size_t frame_bytes = out_info.frame_bytes();
  const size_t total = frame_bytes * info.frames;
  if (total > 0xFFFFFFFEull) return Status::InvalidArgument("decoded pixel data would exceed 4 GiB");
  uint8_t* out = nullptr;
  OFCondition c;
  if (info.bits_allocated == 16) {
    Uint16* words = nullptr;
    c = pd->createUint16Array(static_cast<Uint32>(total / 2), words);
    out = reinterpret_cast<uint8_t*>(words);
  } else {
    Uint8* bytes = nullptr;
    c = pd->createUint8Array(static_cast<Uint32>(total), bytes);
    out = bytes;
  }
  if (c.bad() || out == nullptr) return Status::Internal(std::string("allocating pixel data: ") + c.text());
  // Native pixel data of more than 8 bits is OW (PS3.5 8.2); the element still carries the OB
  // of its encapsulated form. DCMTK's own decoders do the same.
  pd->setVR(info.bits_allocated > 8 ? EVR_OW : EVR_OB);

  const FrameDecoder decode = source.engine == Engine::kOpenJph ? DecodeHtj2kFrame : DecodeJ2kFrame;
  for (uint32_t i = 0; i < info.frames; ++i) {
    Status st = decode(out_info, frames[i], std::span<uint8_t>(out + i * frame_bytes, frame_bytes));
    if (!st.ok()) return st.WithContext(fmt::format("frame {}", i + 1));
  }
  if (info.samples_per_pixel == 3) {
    dataset.putAndInsertUint16(DCM_PlanarConfiguration, 0);
    if (info.photometric == "YBR_RCT" || info.photometric == "YBR_ICT") {
      dataset.putAndInsertString(DCM_PhotometricInterpretation, "RGB");
    }
  }
  DropExtendedOffsetTable(dataset);
  return Status::OK();
}

Status EncodePixelData(DcmDataset& dataset, const SyntaxInfo& target, const TranscodeOptions& options) {
  if (!target.can_encode || !target.encapsulated()) {
    return Status::InvalidArgument(fmt::format("cannot encode pixel data as {}", target.name));
  }
  DcmPixelData* pd = FindPixelData(dataset);
  if (pd == nullptr) {
    if (dataset.tagExists(DCM_FloatPixelData) || dataset.tagExists(DCM_DoubleFloatPixelData)) {
      return NotCompressible("float pixel data");
    }
    return NotCompressible("no pixel data");
  }
  if (!HasNativeRepresentation(*pd)) return Status::Internal("pixel data must be decoded before encoding");
  Result<ImageInfo> info_or = ReadImageInfo(dataset);
  if (!info_or.ok()) return NotCompressible(info_or.status().message());
  const ImageInfo& info = *info_or;
  STRATA_RETURN_IF_ERROR(CheckCompressible(dataset, *pd, info));
  const std::span<const uint8_t> pixels = NativePixels(*pd, info);
  if (pixels.empty()) return Status::Internal("cannot read native pixel data");
  if (Status st = CheckStoredBits(info, pixels); !st.ok()) return NotCompressible(st.message());

  if (target.engine == Engine::kDcmtk) {
    STRATA_RETURN_IF_ERROR(EncodeWithDcmtk(dataset, *pd, target, options));
    DropExtendedOffsetTable(dataset);
    return Status::OK();
  }

  const bool lossy = options.allow_lossy && target.uid == ts::kJ2k;
  const FrameEncoder encode = target.engine == Engine::kOpenJph ? EncodeHtj2k : EncodeJ2k;
  const size_t frame_bytes = info.frame_bytes();
  std::vector<std::string> frames;
  frames.reserve(info.frames);
  uint64_t coded = 0;
  for (uint32_t i = 0; i < info.frames; ++i) {
    Result<std::string> f = encode(info, pixels.subspan(i * frame_bytes, frame_bytes), options, lossy);
    if (!f.ok()) return f.status().WithContext(fmt::format("{} frame {}", target.name, i + 1));
    coded += f->size();
    frames.push_back(std::move(f).value());
  }
  STRATA_RETURN_IF_ERROR(PutEncapsulatedFrames(*pd, target.dcmtk_xfer, frames));
  if (info.samples_per_pixel == 3) {
    // PS3.5 8.2.4: Planar Configuration is meaningless for JPEG 2000 and shall be 0; the
    // Photometric Interpretation names the component transform when one was applied.
    dataset.putAndInsertUint16(DCM_PlanarConfiguration, 0);
    if (info.photometric == "RGB" && options.color_transform) {
      dataset.putAndInsertString(DCM_PhotometricInterpretation, lossy ? "YBR_ICT" : "YBR_RCT");
    }
  }
  DropExtendedOffsetTable(dataset);
  if (lossy) {
    STRATA_RETURN_IF_ERROR(MarkLossy(dataset, double(pixels.size()) / double(std::max<uint64_t>(coded, 1)),
                                     "ISO_15444_1"));
  }
  return Status::OK();
}

}  // namespace strata::codec
