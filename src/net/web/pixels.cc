#include "net/web/pixels.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>

#include "codec/encapsulation.h"
#include "codec/part10_io.h"
#include "codec/syntax_table.h"
#include "codec/transcoder.h"

namespace strata::web {
namespace {

const codec::Transcoder& SharedTranscoder() {
  static const codec::Transcoder t;  // registers the DCMTK codecs once
  return t;
}

}  // namespace

DcmDataset* DecodedInstance::dataset() const { return file ? file->getDataset() : nullptr; }

Result<std::string> TranscodePart10(std::string_view part10, const std::string& target_syntax) {
  return SharedTranscoder().Transcode(part10, target_syntax);
}

Result<DecodedInstance> DecodeInstance(std::string_view part10, bool decode_pixels) {
  DecodedInstance out;
  STRATA_ASSIGN_OR_RETURN(out.stored_syntax, codec::PeekTransferSyntax(part10));
  const codec::SyntaxInfo* info = codec::FindSyntax(out.stored_syntax);
  if (info == nullptr) return Status::InvalidArgument("transfer syntax " + out.stored_syntax + " is not supported");
  std::string decoded;
  if (info->encapsulated() && decode_pixels) {
    if (!info->can_decode)
      return Status::InvalidArgument("cannot decode " + std::string(codec::SyntaxDisplayName(out.stored_syntax)));
    STRATA_ASSIGN_OR_RETURN(decoded, SharedTranscoder().Transcode(part10, std::string(codec::ts::kExplicitLE)));
    part10 = decoded;
  }
  STRATA_ASSIGN_OR_RETURN(codec::Part10File parsed, codec::ReadPart10(part10));
  out.file = std::move(parsed.file);
  // The data set must not refer back to the buffer it was parsed from.
  out.file->getDataset()->loadAllDataIntoMemory();
  return out;
}

Result<codec::ImageInfo> ImageOf(const DecodedInstance& d) {
  DcmDataset* ds = d.dataset();
  if (ds == nullptr || !ds->tagExists(DCM_PixelData)) return Status::NotFound("the instance has no pixel data");
  return codec::ReadImageInfo(*ds);
}

Result<std::string> FrameBytes(const DecodedInstance& d, uint32_t frame) {
  STRATA_ASSIGN_OR_RETURN(codec::ImageInfo info, ImageOf(d));
  if (frame < 1 || frame > info.frames)
    return Status::NotFound("frame " + std::to_string(frame) + " does not exist (the instance has " +
                            std::to_string(info.frames) + ")");
  uint64_t frame_bytes;
  if (info.bits_allocated == 1) {
    const uint64_t bits = uint64_t{info.rows} * info.columns * info.samples_per_pixel;
    if (bits % 8 != 0) return Status::InvalidArgument("1-bit frames that do not end on a byte are not supported");
    frame_bytes = bits / 8;
  } else {
    frame_bytes = info.frame_bytes();
  }
  DcmElement* el = nullptr;
  if (d.dataset()->findAndGetElement(DCM_PixelData, el).bad() || el == nullptr)
    return Status::NotFound("the instance has no pixel data");
  const uint64_t offset = frame_bytes * (frame - 1);
  if (offset + frame_bytes > el->getLength())
    return Status::Corruption("pixel data is shorter than its image attributes say");
  std::string out(frame_bytes, '\0');
  OFCondition c = el->getPartialValue(out.data(), static_cast<Uint32>(offset), static_cast<Uint32>(frame_bytes),
                                      nullptr, EBO_LittleEndian);
  if (c.bad()) return Status::Corruption(std::string("pixel data: ") + c.text());
  return out;
}

Result<std::vector<std::string>> StoredFrames(const DecodedInstance& d, const std::vector<uint32_t>& frames) {
  STRATA_ASSIGN_OR_RETURN(codec::ImageInfo info, ImageOf(d));
  for (uint32_t f : frames)
    if (f < 1 || f > info.frames)
      return Status::NotFound("frame " + std::to_string(f) + " does not exist (the instance has " +
                              std::to_string(info.frames) + ")");
  DcmElement* el = nullptr;
  if (d.dataset()->findAndGetElement(DCM_PixelData, el).bad() || el == nullptr || el->ident() != EVR_PixelData)
    return Status::NotFound("the instance has no pixel data");
  auto* pd = static_cast<DcmPixelData*>(el);
  E_TransferSyntax xfer = EXS_Unknown;
  const DcmRepresentationParameter* param = nullptr;
  pd->getOriginalRepresentationKey(xfer, param);
  DcmPixelSequence* seq = nullptr;
  if (!DcmXfer(xfer).isEncapsulated() || pd->getEncapsulatedRepresentation(xfer, param, seq).bad() || seq == nullptr)
    return Status::InvalidArgument("the pixel data is not encapsulated");
  std::vector<uint64_t> extended;
  DcmElement* eot = nullptr;
  Uint64* values = nullptr;
  if (d.dataset()->findAndGetElement(DCM_ExtendedOffsetTable, eot, OFFalse).good() && eot != nullptr &&
      eot->getUint64Array(values).good() && values != nullptr)
    extended.assign(values, values + eot->getLength() / 8);
  namespace ts = codec::ts;
  const std::string_view s = d.stored_syntax;
  const bool j2k = s == ts::kJ2kLossless || s == ts::kJ2k || s == ts::kHtj2kLossless || s == ts::kHtj2kLosslessRpcl ||
                   s == ts::kHtj2k;
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> all,
                          codec::ExtractFrames(*seq, info.frames, extended, j2k ? codec::IsJ2kFrameStart : nullptr));
  std::vector<std::string> out;
  for (uint32_t f : frames) out.push_back(all[f - 1]);
  return out;
}

Result<std::string> ElementBytes(const DecodedInstance& d, uint32_t tag) {
  DcmElement* el = nullptr;
  const DcmTagKey key(static_cast<Uint16>(tag >> 16), static_cast<Uint16>(tag & 0xFFFF));
  if (d.dataset() == nullptr || d.dataset()->findAndGetElement(key, el).bad() || el == nullptr)
    return Status::NotFound("the instance has no such attribute");
  if (el->ident() == EVR_SQ) return Status::InvalidArgument("a sequence has no bulk data");
  const Uint32 length = el->getLength();
  std::string out(length, '\0');
  if (length > 0) {
    OFCondition c = el->getPartialValue(out.data(), 0, length, nullptr, EBO_LittleEndian);
    if (c.bad()) return Status::Corruption(std::string("attribute value: ") + c.text());
  }
  return out;
}

}  // namespace strata::web
