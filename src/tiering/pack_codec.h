// PackCodecPolicy: which lossless codec the converter applies to each entry it packs, by
// modality. Entries that are already compressed, or that the codec refuses (lossy source,
// unsupported photometric, float pixels...), go into the pack as received, with a log line.
//
// Every re-encoded entry is proven before it is handed to the pack (codec/lossless_proof.h):
// decoded again and compared with the received file, every pixel sample and every attribute.
// If the proof fails the transcoder returns an error (IsLosslessProofFailure), so the
// converter stores the bytes as received, and logs
//   event=lossless_proof_failed sop=<uid> codec=<name> reason="<first difference>"
//
// Lossy JPEG 2000 (lossy_ratio > 0) throws away the received pixels once the hot originals
// are deleted, so it is refused unless lossy_replaces_originals is also set; such entries are
// still decoded and their attributes checked (ProofKind::kLossy), and are never marked
// lossless_verified.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "codec/transcode_options.h"
#include "tiering/migration_scheduler.h"

namespace strata {

struct PackCodecPolicy {
  std::string default_codec = "none";              // none | jpeg-ls | j2k | htj2k
  std::map<std::string, std::string> by_modality;  // e.g. CT -> htj2k
  double lossy_ratio = 0;                          // > 0 with j2k: lossy JPEG 2000 (explicit opt-in)
  // The second, explicit consent lossy_ratio > 0 needs: the pack then holds the only copy,
  // and it is not the image that was received.
  bool lossy_replaces_originals = false;
};

// The encoding step (default: codec::Transcoder::Transcode). Tests replace it with a broken
// encoder to show that the proof catches it; nothing else should.
using EntryEncoder = std::function<Result<std::string>(std::string_view part10, const std::string& target_syntax,
                                                       const codec::TranscodeOptions& options)>;

// The transfer syntax a codec name stands for; InvalidArgument for an unknown name.
Result<std::string> CodecSyntax(const std::string& codec_name, double lossy_ratio);
// Validates the policy and returns the converter's per-entry transcoder (empty fn for "none"
// everywhere). InvalidArgument for lossy_ratio > 0 without lossy_replaces_originals.
Result<EntryTranscoder> MakeEntryTranscoder(const PackCodecPolicy& policy, EntryEncoder encoder = nullptr);

// True for the error a transcoder returns when the proof of its result failed.
bool IsLosslessProofFailure(const Status& status);

}  // namespace strata
