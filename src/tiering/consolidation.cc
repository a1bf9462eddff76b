#include "tiering/consolidation.h"

#include <algorithm>

#include "util/checksum.h"

namespace strata {

bool ShouldConsolidate(const std::vector<PackRecord>& packs, uint64_t hot_bytes, const ConsolidationPolicy& policy) {
  if (packs.empty()) return false;  // the first pack of a study: nothing to carry over
  if (static_cast<int64_t>(packs.size()) + 1 > std::max(1, policy.max_packs)) return true;
  if (policy.small_share >= 1.0) return false;
  uint64_t total = hot_bytes, largest = 0;
  for (const auto& p : packs) {
    total += p.size;
    largest = std::max(largest, p.size);
  }
  const uint64_t small = total - largest;
  return static_cast<double>(small) > policy.small_share * static_cast<double>(total);
}

PackEntryInfo CarriedEntryInfo(const InstanceRecord& r) {
  PackEntryInfo info{r.series_uid, r.sop_uid, r.sop_class_uid, StoredSyntax(r), "", std::nullopt, std::nullopt};
  const bool transcoded = (!r.location.entry_checksum.empty() && r.location.entry_checksum != r.checksum) ||
                          info.transfer_syntax != r.transfer_syntax;
  if (transcoded) {
    info.original_transfer_syntax = r.transfer_syntax;
    info.original_size = r.size;
    uint64_t x = 0;
    if (ParseHexU64(r.checksum, &x)) info.original_xxh3 = x;
  }
  return info;
}

}  // namespace strata
