// MigrationScheduler: decides when and which studies move from the hot tier into packs in the
// cold store (the "converter" of the docs and the logs; it migrates, while codec/Transcoder is
// what converts pixel data). It moves nothing itself: each study is one StudyMigration
// (study_migration.h: claim -> build+upload -> verify -> fenced switch -> delete hot).
// A pass (RunOnce) runs, in order: the janitor (janitor.h); retention and the deletion of
// rejected instances past their grace (whole passes only); the migrations the age policy
// selects, tiering.studies_at_once at a time; then the compaction of studies whose packs hold
// entries of deleted instances (the same steps). A crash or kill at any step leaves every
// image readable: the catalog points at the hot file until the switch commits, and at a
// verified pack after it.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "archive/archive.h"
#include "tiering/tiering_options.h"

namespace strata {

class MigrationScheduler {
 public:
  MigrationScheduler(Archive* archive, TieringOptions options);
  ~MigrationScheduler();

  // One pass now (see above). STUDY_UID restricts it to one study (and skips retention and
  // rejected deletes); OLDER_THAN_MS (>= 0) overrides the age threshold and the StudyDate
  // rule (`strata migrate --older-than 0s`). Returns the report of what moved: a study that
  // failed is counted in `failed`, one claimed by another node in `skipped`, and neither
  // fails the pass; an error is returned only when the janitor or a catalog listing of the
  // work failed. After Stop() the pass ends after its current batch.
  Result<MigrationReport> RunOnce(const std::string& study_uid, int64_t older_than_ms,
                                  const MigrationProgress& progress = nullptr);
  // Migrates (or compacts) one study and adds what moved to REPORT; OK also when there was
  // nothing to do. kConflict if another claim on the study is live; any other error is the
  // failed step's, already recorded on the claim (StudyMigration::Fail).
  Status MigrateStudy(const std::string& study_uid, MigrationReport* report, const MigrationProgress& progress);
  // Repairs what interrupted runs left behind (the janitor).
  Status Cleanup();

  // Starts the background loop of `strata serve`: a pass every interval_ms while inside the
  // window. Call once.
  void Start();
  // Stops the loop, waiting for a pass in progress (which takes no further migration batch,
  // see RunOnce). Idempotent; the destructor calls it.
  void Stop();

  // Whether MINUTES_SINCE_MIDNIGHT (local time) is inside WINDOW ("HH:MM-HH:MM", may wrap
  // midnight: "22:00-06:00"); an empty or unparsable window is always open.
  static bool InWindow(const std::string& window, int minutes_since_midnight);

  const TieringOptions& options() const { return opt_; }

 private:
  // Migrates (and compacts) BATCH, studies_at_once at a time; adds to TOTAL.
  void RunBatch(const std::vector<std::string>& batch, MigrationReport* total, const MigrationProgress& progress);
  Archive* archive_;
  TieringOptions opt_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace strata
