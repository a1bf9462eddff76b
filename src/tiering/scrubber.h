// Scrubber: `strata verify`. Reads every pack back, checks every entry's CRC-32 and XXH3,
// checks the pack's manifest against the catalog rows that point into it (offset, length,
// checksum), and optionally every hot file against its checksum and the hot tier against the
// catalog (files no row references, past the reconcile grace period). Reports each problem by
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
  std::vector<std::string> repaired;  // with repair: unknown hot files re-indexed or removed
  bool ok() const { return problems.empty(); }
};

struct ScrubOptions {
  bool hot = false;  // also verify every hot file, and look for files the catalog does not know
  bool repair = false;  // with hot: reconcile those files (Archive::ReconcileHot) instead of reporting them
  int64_t hot_grace_ms = 3600 * 1000;  // younger unknown files may be stores in flight: skipped
  std::function<void(const std::string& what, uint64_t done, uint64_t total)> progress;
};

Result<ScrubReport> Scrub(Archive* archive, const ScrubOptions& options);

}  // namespace strata
