#include "tiering/pack_codec.h"

#include <memory>
#include <utility>

#include "codec/lossless_proof.h"
#include "codec/part10_io.h"
#include "codec/pixel_transcode.h"
#include "codec/transcoder.h"
#include "dicom/transfer_syntax.h"
#include "util/log.h"

namespace strata {
namespace {

constexpr std::string_view kProofFailed = "lossless proof failed: ";

struct Target {
  std::string syntax;  // empty = store as received
  std::string codec;   // the policy's name, for the log
};

}  // namespace

Result<std::string> CodecSyntax(const std::string& name, double lossy_ratio) {
  if (name == "none") return std::string();
  if (name == "jpeg-ls") return std::string(codec::ts::kJpegLsLossless);
  if (name == "j2k") return std::string(lossy_ratio > 0 ? codec::ts::kJ2k : codec::ts::kJ2kLossless);
  if (name == "htj2k") return std::string(codec::ts::kHtj2kLossless);
  return Status::InvalidArgument("unknown codec '" + name + "' (use none, jpeg-ls, j2k or htj2k)");
}

bool IsLosslessProofFailure(const Status& status) {
  return status.code() == Status::Code::kCorruption && status.message().starts_with(kProofFailed);
}

Result<EntryTranscoder> MakeEntryTranscoder(const PackCodecPolicy& policy, EntryEncoder encoder) {
  auto target_of = [&](const std::string& name) -> Result<Target> {
    STRATA_ASSIGN_OR_RETURN(std::string syntax, CodecSyntax(name, policy.lossy_ratio));
    return Target{syntax, name};
  };
  STRATA_ASSIGN_OR_RETURN(Target def, target_of(policy.default_codec));
  std::map<std::string, Target> by_modality;
  bool any = !def.syntax.empty();
  bool lossy = policy.lossy_ratio > 0 && def.syntax == codec::ts::kJ2k;
  for (const auto& [modality, name] : policy.by_modality) {
    STRATA_ASSIGN_OR_RETURN(by_modality[modality], target_of(name));
    any = any || !by_modality[modality].syntax.empty();
    lossy = lossy || (policy.lossy_ratio > 0 && by_modality[modality].syntax == codec::ts::kJ2k);
  }
  if (lossy && !policy.lossy_replaces_originals) {
    return Status::InvalidArgument(
        "tiering.lossy_ratio > 0 makes the pack hold lossy JPEG 2000 in place of the received images, which are "
        "deleted once packed; set tiering.lossy_replaces_originals = true to accept that");
  }
  EntryTranscoder t;
  if (!any) return t;
  if (!encoder) {
    auto transcoder = std::make_shared<codec::Transcoder>();
    encoder = [transcoder](std::string_view part10, const std::string& target, const codec::TranscodeOptions& o) {
      return transcoder->Transcode(part10, target, o);
    };
  }
  codec::TranscodeOptions opts;
  opts.allow_lossy = policy.lossy_ratio > 0;
  opts.j2k_lossy_ratio = policy.lossy_ratio > 0 ? policy.lossy_ratio : 10.0;
  t.fn = [encoder, def, by_modality, opts](const InstanceRecord& r, const std::string& bytes) -> Result<TranscodedEntry> {
    auto it = by_modality.find(r.modality);
    const Target& target = it != by_modality.end() ? it->second : def;
    if (target.syntax.empty()) return Status::NotFound("no codec for modality " + r.modality);
    if (!IsUncompressedSyntax(r.transfer_syntax))
      return Status::InvalidArgument("already encapsulated (" + SyntaxName(r.transfer_syntax) + ")");
    auto out = encoder(bytes, target.syntax, opts);
    if (!out.ok()) {
      spdlog::info("event=pack_entry_as_received sop={} reason=\"{}\"", r.sop_uid, out.status().message());
      return out.status();
    }
    // The proof: what the pack would hold must give back what was received.
    const bool lossy = opts.allow_lossy && target.syntax == codec::ts::kJ2k;
    Status proof;
    Result<std::string> produced = codec::PeekTransferSyntax(*out);
    if (!produced.ok()) {
      proof = produced.status();
    } else if (codec::TrimUidPadding(*produced) != target.syntax) {
      proof = Status::Corruption("encoder produced " + *produced + ", not " + target.syntax);
    } else {
      proof = codec::ProveTranscode(bytes, *out, lossy ? codec::ProofKind::kLossy : codec::ProofKind::kLossless);
    }
    if (!proof.ok()) {
      spdlog::error("event=lossless_proof_failed sop={} codec={} reason=\"{}\"", r.sop_uid, target.codec,
                    proof.message());
      return Status::Corruption(std::string(kProofFailed) + proof.message());
    }
    if (lossy) spdlog::info("event=pack_entry_lossy sop={} codec={} ratio={}", r.sop_uid, target.codec,
                            opts.j2k_lossy_ratio);
    return TranscodedEntry{std::move(out).value(), target.syntax, /*lossless_verified=*/!lossy};
  };
  return t;
}

}  // namespace strata
