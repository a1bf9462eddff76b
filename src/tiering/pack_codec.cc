#include "tiering/pack_codec.h"

#include <memory>

#include "codec/pixel_transcode.h"
#include "codec/transcoder.h"
#include "dicom/transfer_syntax.h"
#include "util/log.h"

namespace strata {

Result<std::string> CodecSyntax(const std::string& name, double lossy_ratio) {
  if (name == "none") return std::string();
  if (name == "jpeg-ls") return std::string(codec::ts::kJpegLsLossless);
  if (name == "j2k") return std::string(lossy_ratio > 0 ? codec::ts::kJ2k : codec::ts::kJ2kLossless);
  if (name == "htj2k") return std::string(codec::ts::kHtj2kLossless);
  return Status::InvalidArgument("unknown codec '" + name + "' (use none, jpeg-ls, j2k or htj2k)");
}

Result<EntryTranscoder> MakeEntryTranscoder(const PackCodecPolicy& policy) {
  STRATA_ASSIGN_OR_RETURN(std::string def, CodecSyntax(policy.default_codec, policy.lossy_ratio));
  std::map<std::string, std::string> by_modality;
  bool any = !def.empty();
  for (const auto& [modality, name] : policy.by_modality) {
    STRATA_ASSIGN_OR_RETURN(by_modality[modality], CodecSyntax(name, policy.lossy_ratio));
    any = any || !by_modality[modality].empty();
  }
  EntryTranscoder t;
  if (!any) return t;
  auto transcoder = std::make_shared<codec::Transcoder>();
  codec::TranscodeOptions opts;
  opts.allow_lossy = policy.lossy_ratio > 0;
  opts.j2k_lossy_ratio = policy.lossy_ratio > 0 ? policy.lossy_ratio : 10.0;
  t.fn = [transcoder, def, by_modality, opts](const InstanceRecord& r,
                                              const std::string& bytes) -> Result<std::pair<std::string, std::string>> {
    auto it = by_modality.find(r.modality);
    const std::string& target = it != by_modality.end() ? it->second : def;
    if (target.empty()) return Status::NotFound("no codec for modality " + r.modality);
    if (!IsUncompressedSyntax(r.transfer_syntax))
      return Status::InvalidArgument("already encapsulated (" + SyntaxName(r.transfer_syntax) + ")");
    auto out = transcoder->Transcode(bytes, target, opts);
    if (!out.ok()) {
      spdlog::info("event=pack_entry_as_received sop={} reason=\"{}\"", r.sop_uid, out.status().message());
      return out.status();
    }
    return std::make_pair(std::move(out).value(), target);
  };
  return t;
}

}  // namespace strata
