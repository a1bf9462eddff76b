// Archive::BackfillHeaders: rows catalogued before schema v6 get the v6 attributes (Bits
// Allocated, Timezone Offset, Performed Procedure Step Start, Request Attributes, header
// JSON) from their stored bytes, hot or packed. Read-only on the tiers; only catalog columns
// that were empty are written, so a re-run or a concurrent node changes nothing twice.
#include "archive/archive.h"
#include "dicom/dataset_reader.h"
#include "util/log.h"

namespace strata {

Result<uint64_t> Archive::BackfillHeaders(const std::function<bool()>& stop) {
  constexpr size_t kBatch = 64;
  uint64_t done = 0;
  std::set<std::string> failed;  // unreadable now: skipped for this pass, logged once
  for (;;) {
    if (stop && stop()) break;
    STRATA_ASSIGN_OR_RETURN(auto rows, catalog_->ListInstancesWithoutHeader(kBatch + failed.size()));
    std::vector<InstanceRecord> updates;
    for (const auto& row : rows) {
      if (failed.count(row.sop_uid)) continue;
      auto bytes = Read(row);
      InstanceRecord fresh;
      Status s = bytes.ok() ? ReadInstanceAttributesFromBuffer(bytes.value(), &fresh) : bytes.status();
      if (!s.ok()) {
        spdlog::warn("event=header_backfill_skipped sop={} error={}", row.sop_uid, s.ToString());
        failed.insert(row.sop_uid);
        continue;
      }
      fresh.sop_uid = row.sop_uid;
      updates.push_back(std::move(fresh));
    }
    if (updates.empty()) break;
    STRATA_RETURN_IF_ERROR(catalog_->UpdateHeaderAttributes(updates));
    done += updates.size();
  }
  if (done > 0 || !failed.empty())
    spdlog::info("event=header_backfill instances={} skipped={}", done, failed.size());
  return done;
}

}  // namespace strata
