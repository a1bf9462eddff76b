#include "archive/read_run.h"

#include "archive/archive.h"
#include "util/checksum.h"

namespace strata {

size_t PackRunLength(std::span<const InstanceRecord> records, const RunLimits& limits) {
  if (records.empty()) return 0;
  const Location& first = records[0].location;
  if (first.tier != Location::Tier::kCold) return 1;
  uint64_t end = first.offset + first.length;
  size_t n = 1;
  while (n < records.size() && n < limits.max_entries) {
    const Location& next = records[n].location;
    if (next.tier != Location::Tier::kCold || next.pack_key != first.pack_key || next.offset < end ||
        next.offset - end > limits.max_gap || next.offset + next.length - first.offset > limits.max_bytes) {
      break;
    }
    end = next.offset + next.length;
    ++n;
  }
  return n;
}

std::vector<Result<std::string>> Archive::ReadRun(std::span<const InstanceRecord> run) {
  std::vector<Result<std::string>> out;
  out.reserve(run.size());
  if (run.size() == 1 || PackRunLength(run) != run.size()) {
    // Not one run (a caller's mistake or a hot record): each entry on its own.
    for (const InstanceRecord& r : run) out.push_back(Read(r));
    return out;
  }
  const Location& first = run.front().location;
  const uint64_t start = first.offset;
  const uint64_t length = run.back().location.offset + run.back().location.length - start;
  Result<std::string> range = cold_->GetRange(first.pack_key, start, length);
  for (const InstanceRecord& r : run) {
    const Location& loc = r.location;
    const std::string& want = loc.entry_checksum.empty() ? r.checksum : loc.entry_checksum;
    if (range.ok() && range->size() == length) {
      std::string bytes = range->substr(loc.offset - start, loc.length);
      if (Xxh3Hex(bytes) == want) {
        out.push_back(std::move(bytes));
        continue;
      }
    }
    out.push_back(Read(r));  // the single-entry path: re-locates, falls back to the replica, says why
  }
  return out;
}

}  // namespace strata
