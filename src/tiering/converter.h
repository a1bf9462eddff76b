// Converter: the scheduler that moves studies from the hot tier into packs in the cold store.
// Each pass runs the janitor (janitor.h) and then migrates what the policy selects, several
// studies at once, one StudyMigration each (study_migration.h: claim -> build+upload ->
// verify -> fenced switch -> delete hot), then compacts the studies whose packs hold entries
// of deleted instances (the same steps). A crash or kill at any step leaves every image
// readable: the catalog points at the hot file until the switch commits, and at a verified
// pack after it.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "archive/archive.h"
#include "tiering/tiering_options.h"

namespace strata {

class Converter {
 public:
  Converter(Archive* archive, ConverterOptions options);
  ~Converter();

  // Migrates what the policy selects now. STUDY_UID restricts to one study; OLDER_THAN_MS
  // (>= 0) overrides the age threshold (`strata migrate --older-than 0s`).
  Result<MigrationReport> RunOnce(const std::string& study_uid, int64_t older_than_ms,
                                  const MigrationProgress& progress = nullptr);
  // Migrates one study; adds what moved to REPORT. kConflict if another claim is live.
  Status MigrateStudy(const std::string& study_uid, MigrationReport* report, const MigrationProgress& progress);
  // Repairs what interrupted runs left behind (the janitor).
  Status Cleanup();

  // Background loop for `strata serve`.
  void Start();
  void Stop();

  // True if NOW (local time) is inside the configured window.
  static bool InWindow(const std::string& window, int minutes_since_midnight);

  const ConverterOptions& options() const { return opt_; }

 private:
  // Migrates (and compacts) BATCH, studies_at_once at a time; adds to TOTAL.
  void RunBatch(const std::vector<std::string>& batch, MigrationReport* total, const MigrationProgress& progress);
  Archive* archive_;
  ConverterOptions opt_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace strata
