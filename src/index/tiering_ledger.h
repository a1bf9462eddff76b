// TieringLedger: what the converter (src/tiering) records about moving studies between the
// tiers — migration claims with fencing tokens and leases, the packs, and the one switch that
// moves instances to a pack. Catalog implements it (index/catalog.h; SqlCatalog in
// sql_tiering_ledger.cc) so a switch and the rows it moves commit in one transaction.
// Thread-safe; a failed call changes nothing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/records.h"
#include "util/status.h"

namespace strata {

// Selection of studies the converter may migrate.
struct MigrationPolicy {
  int64_t received_before_ms = 0;   // last instance received before this time (0 = any)
  std::string study_date_before;    // YYYYMMDD; StudyDate strictly older (empty = any)
  std::string study_uid;            // just this study (empty = any)
  size_t limit = 16;
};

class TieringLedger {
 public:
  virtual ~TieringLedger() = default;

  // Leases are judged by ONE clock, the database's (PostgreSQL clock_timestamp(); SQLite the
  // local clock, being one machine): callers pass durations, never their own wall clock.
  //
  // Studies that match POLICY, have hot instances and no live claim. NOW_MS is only kept for
  // the callers' signature; the claim check uses the database clock.
  virtual Result<std::vector<StudySummary>> StudiesToMigrate(const MigrationPolicy& policy,
                                                             int64_t now_ms) = 0;
  // Takes the migration claim of a study for NODE for LEASE_MS and returns its fencing token:
  // strictly greater than every token handed out before for this study. kConflict if an
  // unfinished claim with an unexpired lease exists (whoever holds it). PACK_KEY is recorded
  // before anything is uploaded, so a crash leaves a trail to clean up.
  virtual Result<int64_t> ClaimMigration(const std::string& study_uid, const std::string& node,
                                         const std::string& pack_key, int64_t lease_ms) = 0;
  // Renews a claim for LEASE_MS from now and records STATE. Fenced: kConflict unless the row
  // still has TOKEN, is unfinished and its lease has not run out. A lease that ran out stays
  // out: only a new ClaimMigration (a new token) revives the study.
  virtual Status RenewMigration(const std::string& study_uid, int64_t token, const std::string& state,
                                int64_t lease_ms) = 0;
  // Records the end of a claim: STATE is "done" or "failed". Conditional on TOKEN (and, when
  // SEEN_LEASE_UNTIL_MS > 0, on the lease still being the one the caller saw, so that a claim
  // renewed meanwhile is untouched); kConflict if the condition does not hold.
  virtual Status FinishMigration(const std::string& study_uid, int64_t token, const std::string& state,
                                 const std::string& error, int64_t seen_lease_until_ms = 0) = 0;
  virtual Result<std::vector<MigrationRecord>> ListMigrations(size_t limit) = 0;
  // Switches instances to their new cold locations and records PACK, in ONE transaction that
  // first checks the claim FENCE (token, state claimed/uploaded, lease unexpired by the
  // database clock; kConflict otherwise, nothing changed) and sets it to "switched".
  // EXPECTED[k] is where instance SOP_UIDS[k] must still be for it to move: a hot location
  // (tier hot + hot path) or a cold one (pack key + offset; the row's hot-path trail is kept).
  // The result says which moved. Pack rows named in RETIRE that no instance references any
  // more are deleted in the same transaction (consolidation); their objects may be deleted
  // once this returned OK. A hot location's path stays in the row (tier = cold) until
  // ClearHotPaths says the file is gone, so a crash between switch and deletion leaves a trail.
  virtual Result<std::vector<bool>> SwitchToPack(const PackRecord& pack, const MigrationFence& fence,
                                                 const std::vector<std::string>& sop_uids,
                                                 const std::vector<Location>& expected,
                                                 const std::vector<Location>& locations,
                                                 const std::vector<std::string>& retire = {}) = 0;
  // Cold instances whose hot file may still exist (switched, not yet cleaned up).
  virtual Result<std::vector<InstanceRecord>> ListLeftoverHotFiles(size_t limit) = 0;
  virtual Status ClearHotPaths(const std::vector<std::string>& sop_uids) = 0;
  virtual Result<std::vector<PackRecord>> ListPacks(const std::string& study_uid) = 0;
  // Forgets a pack whose instances all moved elsewhere; kConflict (nothing changed) if an
  // instance still references it.
  virtual Status DeletePackRecord(const std::string& pack_key) = 0;
  // Records PACK as it is, outside any claim: only for `strata rebuild-catalog`, which
  // recreates the rows of verified packs in an empty catalog. Validates the study UID;
  // kAlreadyExists (nothing changed) if the key has a row.
  virtual Status RestorePackRecord(const PackRecord& pack) = 0;
  // Number of instances whose location names PACK_KEY.
  virtual Result<uint64_t> CountPackReferences(const std::string& pack_key) = 0;
  // What the janitor needs, read in ONE snapshot: every claim, every pack key a pack row or
  // an instance references, and the database clock at that moment.
  virtual Result<LedgerSnapshot> ReadLedgerSnapshot() = 0;
};

}  // namespace strata
