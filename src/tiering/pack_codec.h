// PackCodecPolicy: which lossless codec the converter applies to each entry it packs, by
// modality. Entries that are already compressed, or that the codec refuses (lossy source,
// unsupported photometric, float pixels...), go into the pack as received, with a log line.
#pragma once

#include <map>
#include <string>

#include "tiering/converter.h"

namespace strata {

struct PackCodecPolicy {
  std::string default_codec = "none";              // none | jpeg-ls | j2k | htj2k
  std::map<std::string, std::string> by_modality;  // e.g. CT -> htj2k
  double lossy_ratio = 0;                          // > 0 with j2k: lossy JPEG 2000 (explicit opt-in)
};

// The transfer syntax a codec name stands for; InvalidArgument for an unknown name.
Result<std::string> CodecSyntax(const std::string& codec_name, double lossy_ratio);
// Validates the policy and returns the converter's per-entry transcoder (empty fn for "none"
// everywhere).
Result<EntryTranscoder> MakeEntryTranscoder(const PackCodecPolicy& policy);

}  // namespace strata
