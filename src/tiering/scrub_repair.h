// Self-repair (issue 16): every pack row's object is read back from both the primary cold
// store and the replica (size, manifest XXH3 against the pack row, every entry's CRC-32 and
// XXH3); a copy missing or corrupt in one store is restored from the other, and the restored
// copy is read back and verified the same way before it counts as repaired.
//
// A replica copy of a pack still pending in the backup queue is not yet expected: it is
// left to the replicator. A pack bad in both stores is reported (unrecoverable) and left as
// is. A store that cannot be reached (kUnavailable) is reported and the pass goes on.
// Writes only objects whose bytes were verified against the catalog, under the same key
// (an overwrite with the identical pack). A pack retired while the pass runs (its row gone)
// is skipped, not reported; a copy restored just as it was retired is deleted again.
//
// `strata verify` runs one pass when a replica is configured; `strata serve` runs the
// Scrubber loop at the configured pace (a pause between packs, a pause between passes).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "archive/archive.h"

namespace strata {

struct RepairOptions {
  bool dry_run = false;        // report what would be restored, write nothing
  int64_t pause_ms = 0;        // between packs (the pace of the background scrubber)
  int64_t interval_ms = 24 * 3600 * 1000;  // between background passes
  std::function<void(uint64_t done, uint64_t total)> progress;
};

struct RepairReport {
  uint64_t packs = 0;
  uint64_t primary_restored = 0, replica_restored = 0;
  std::vector<std::string> repaired;   // "primary <key>: <what was wrong>"
  std::vector<std::string> problems;   // unrecoverable, unreachable, or a restore that failed
  bool ok() const { return problems.empty(); }
};

// One pass over every pack row. STOP, when set, is polled between packs.
Result<RepairReport> RepairPacks(Archive* archive, ColdStore* replica, const RepairOptions& options,
                                 const std::function<bool()>& stop = {});

// The background scrubber of `strata serve`.
class PackScrubber {
 public:
  PackScrubber(Archive* archive, ColdStore* replica, RepairOptions options)
      : archive_(archive), replica_(replica), opt_(std::move(options)) {}
  ~PackScrubber() { Stop(); }
  void Start();
  void Stop();

 private:
  bool Wait(int64_t ms);  // true once stopped
  Archive* archive_;
  ColdStore* replica_;
  RepairOptions opt_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace strata
