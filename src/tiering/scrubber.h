// Scrubber: `strata verify`. Reads every pack back, checks every entry's CRC-32 and XXH3,
// checks the pack's manifest against the catalog rows that point into it (offset, length,
// checksum), and optionally every hot file against its checksum. Reports each problem by
// pack and entry; never stops at the first.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "archive/archive.h"

namespace strata {

struct ScrubReport {
  uint64_t packs = 0, entries = 0, bytes = 0, hot_files = 0;
  std::vector<std::string> problems;
  bool ok() const { return problems.empty(); }
};

struct ScrubOptions {
  bool hot = false;  // also verify every hot file
  std::function<void(const std::string& what, uint64_t done, uint64_t total)> progress;
};

Result<ScrubReport> Scrub(Archive* archive, const ScrubOptions& options);

}  // namespace strata
