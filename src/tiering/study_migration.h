// StudyMigration: one study's move from the hot tier into a pack, as explicit steps so that
// tests can interleave two converters step by step:
//
//   Claim -> BuildAndUpload -> Verify -> Switch -> DeleteHotCopies
//
// Claim takes a fenced claim (token + lease, by the database clock) and records the pack key
// before anything is uploaded. BuildAndUpload streams the sources into a multipart upload.
// Verify reads the object back and checks every entry. Switch points the rows at the pack in
// one transaction that first checks the fence; DeleteHotCopies removes the hot files of what
// moved. When the study's packs multiply, the sources include its cold instances and the
// switch retires the old packs (see consolidation.h).
//
// A study whose packs hold entries no row references (deleted instances) is compacted by the
// same steps: the live entries of those packs are copied as stored into the new pack, the
// switch retires the old pack rows, and the old objects are deleted after it.
//
// What a failure may delete: only an object that is definitely not referenced (the upload
// or verify failed, or the switch was refused: kConflict). After any other switch error the
// outcome is read back; if it cannot be known the object stays for the janitor, which
// deletes it only when no row and no live claim names it.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "archive/archive.h"
#include "pack/pack_writer.h"
#include "tiering/tiering_options.h"

namespace strata {

class LeaseKeeper;

class StudyMigration {
 public:
  // CATALOG (default: the archive's) is the ledger it writes; tests pass a fault-injecting one.
  StudyMigration(Archive* archive, const TieringOptions& options, std::string study_uid,
                 Catalog* catalog = nullptr);
  ~StudyMigration();

  // Step 1. kConflict if another claim on the study is live. Then lists the sources; when
  // there is nothing hot the claim is finished at once and nothing_to_do() is true.
  Status Claim();
  bool nothing_to_do() const { return nothing_to_do_; }
  bool consolidating() const { return !retire_.empty(); }
  // Packs of the study rewritten because they hold entries no row references (compaction).
  size_t compacted_packs() const { return compacted_packs_; }
  // Step 2: builds the pack and uploads it (the object exists once this returned OK).
  Status BuildAndUpload(const MigrationProgress& progress = nullptr);
  // Step 3: reads the object back; every entry must verify.
  Status Verify();
  // Step 4: the fenced switch; kConflict means the claim was lost and nothing switched.
  Status Switch();
  // Step 5: deletes the hot files of the switched instances and the retired packs, and
  // finishes the claim.
  Status DeleteHotCopies();

  // All steps, the lease renewed in the background; a failure is recorded by Fail().
  Status Run(MigrationReport* report, const MigrationProgress& progress = nullptr);
  // Ends a failed run: records it on the claim (if still ours) and deletes the object only
  // when it is definitely unreferenced. Returns WHY.
  Status Fail(const Status& why);

  const std::string& pack_key() const { return key_; }
  int64_t token() const { return token_; }
  uint64_t moved() const { return moved_; }
  // Test hook: called before the switch transaction (e.g. to pause past the lease).
  void set_before_switch(std::function<void()> fn) { before_switch_ = std::move(fn); }

 private:
  enum class Outcome { kUnknown, kNotSwitched, kSwitched };
  std::string NewPackKey() const;
  std::string StateName() const;
  Status ReadBackSwitch();
  bool ClaimLost() const;
  Status RetireEmptyPacks();
  // BuildAndUpload's loop: every source prepared ahead on worker threads, added to WRITER in
  // order, its pack location recorded in locations_. Stops at the first failure or lost claim.
  Status WriteEntries(PackWriter* writer, const MigrationProgress& progress);

  Archive* archive_;
  Catalog* catalog_;
  const TieringOptions& opt_;
  std::string study_uid_;
  std::string owner_;
  std::string key_;
  int64_t token_ = 0;
  bool nothing_to_do_ = false;
  std::vector<InstanceRecord> sources_;   // hot instances, then (consolidating) cold ones
  std::vector<PackRecord> old_packs_;
  std::vector<std::string> retire_;        // old pack keys, when consolidating or compacting
  size_t compacted_packs_ = 0;
  int64_t generation_ = 1;
  int64_t packed_at_ms_ = 0;  // in the manifest (PackedAtMs) and the pack row (created_ms)
  // Filled by BuildAndUpload, parallel to sources_.
  std::vector<Location> locations_;
  std::unique_ptr<ObjectUpload> upload_;
  std::atomic<bool> uploaded_{false};  // read by the lease keeper's thread
  bool verified_ = false;
  Outcome outcome_ = Outcome::kNotSwitched;
  std::vector<bool> switched_;
  PackSummary summary_;
  uint64_t bytes_in_ = 0, moved_ = 0;
  uint64_t proofs_ = 0, proof_failures_ = 0;  // lossless proofs passed / failed in this pack
  std::unique_ptr<LeaseKeeper> keeper_;
  std::function<void()> before_switch_;
};

}  // namespace strata
