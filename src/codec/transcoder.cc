#include "codec/transcoder.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>

#include <fmt/format.h>

#include "codec/dcmtk_codecs.h"
#include "codec/part10_io.h"

namespace strata::codec {

Transcoder::Transcoder() { RegisterDcmtkCodecs(); }

bool Transcoder::CanEncode(std::string_view syntax) {
  const SyntaxInfo* s = FindSyntax(syntax);
  return s != nullptr && s->can_encode;
}

bool Transcoder::CanDecode(std::string_view syntax) {
  const SyntaxInfo* s = FindSyntax(syntax);
  return s != nullptr && s->can_decode;
}

Result<std::string> Transcoder::Transcode(std::string_view part10, const std::string& target_transfer_syntax,
                                          const TranscodeOptions& options) const {
  const SyntaxInfo* target = FindSyntax(target_transfer_syntax);
  if (target == nullptr || !target->can_encode) {
    return Status::InvalidArgument("cannot encode transfer syntax " + target_transfer_syntax);
  }
  STRATA_ASSIGN_OR_RETURN(std::string stored, PeekTransferSyntax(part10));
  if (stored == target->uid) return std::string(part10);
  STRATA_ASSIGN_OR_RETURN(Part10File file, ReadPart10(part10));
  const SyntaxInfo& source = *file.syntax;
  if (!source.can_decode) return Status::InvalidArgument("cannot decode transfer syntax " + stored);
  DcmDataset& dataset = *file.file->getDataset();

  const bool has_pixels = dataset.tagExists(DCM_PixelData, OFFalse);
  if (target->encapsulated()) {
    if (source.lossiness == Lossiness::kLossy && has_pixels) {
      return NotCompressible(fmt::format("already lossy-compressed ({})", source.name));
    }
    // Checked before decoding so that a lossy file costs no decode.
    OFString lossy;
    if (dataset.findAndGetOFString(DCM_LossyImageCompression, lossy).good() && lossy == "01") {
      return NotCompressible("already lossy-compressed (Lossy Image Compression 01)");
    }
  }
  STRATA_RETURN_IF_ERROR(DecodePixelData(dataset, source).WithContext("decoding " + std::string(source.name)));
  if (target->encapsulated()) {
    Status st = EncodePixelData(dataset, *target, options);
    if (!st.ok()) return IsNotCompressible(st) ? st : st.WithContext("encoding " + std::string(target->name));
  }
  return WritePart10(*file.file, *target);
}

Result<std::string> Transcoder::ChooseSyntax(std::string_view stored, const std::vector<std::string>& acceptable,
                                             std::optional<bool> stored_is_lossy) {
  stored = TrimUidPadding(stored);
  for (const std::string& a : acceptable) {
    if (TrimUidPadding(a) == stored) return std::string(stored);
  }
  const SyntaxInfo* source = FindSyntax(stored);
  if (source == nullptr || !source->can_decode) {
    return Status::NotFound(fmt::format("stored syntax {} cannot be transcoded and is not acceptable", stored));
  }
  auto accepted = [&](std::string_view uid) {
    for (const std::string& a : acceptable) {
      if (TrimUidPadding(a) == uid) return true;
    }
    return false;
  };
  for (std::string_view native : {ts::kExplicitLE, ts::kImplicitLE}) {
    if (accepted(native)) return std::string(native);
  }
  const bool lossy = stored_is_lossy.value_or(source->lossiness != Lossiness::kLossless);
  if (!lossy) {
    for (const std::string& a : acceptable) {
      const SyntaxInfo* s = FindSyntax(a);
      if (s != nullptr && s->can_encode) return std::string(s->uid);
    }
  }
  return Status::NotFound(fmt::format("no acceptable transfer syntax is reachable from {}", SyntaxDisplayName(stored)));
}

}  // namespace strata::codec
