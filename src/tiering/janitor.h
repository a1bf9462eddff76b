// Janitor: finishes or undoes what interrupted migrations left behind (MigrationScheduler::Cleanup).
//
// Deleting a pack object is the one dangerous thing it does, so it is done in this order:
//   1. ListStore: list the cold store (objects and pending uploads) FIRST;
//   2. ReadLedger: read every claim and every referenced pack key in ONE snapshot, with the
//      database clock of that instant;
//   3. Sweep: delete an object only if it existed at the listing, no pack row or instance
//      references it, no unfenced claim names it, and it is older than the grace period.
// Why that is safe: a migration records its pack key in its claim before uploading, so an
// object listed in step 1 belongs to a claim that existed before step 2. If the snapshot
// shows the claim live, the object is kept; if it shows it switched, the object is
// referenced; otherwise the claim is fenced off for good (expired, finished or superseded:
// a lease that ran out is never renewed, SwitchToPack checks the token and the lease), so it
// can never become referenced. Claims of dead holders are marked failed by a conditional
// update (same token AND the same lease as seen, so a claim renewed meanwhile is untouched);
// their objects go in a second round that reads a fresh snapshot. Pending uploads follow the
// same rule without the grace period (an aborted upload can only fail its owner's Complete);
// a pending upload without a key (a local temp file) is judged by its age.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "archive/archive.h"
#include "tiering/tiering_options.h"

namespace strata {

class Janitor {
 public:
  // CATALOG (default: the archive's) is the ledger it reads and writes.
  Janitor(Archive* archive, const TieringOptions& options, Catalog* catalog = nullptr);

  // Everything below, in order (a second round when claims were marked failed).
  Status Run();

  // Hot files of switched instances that a crash kept from being deleted.
  Status RemoveHotLeftovers();
  Status ListStore();
  Status ReadLedger();
  // Returns how many dead claims it marked failed.
  Result<int> Sweep();

 private:
  Archive* archive_;
  Catalog* catalog_;
  const TieringOptions& opt_;
  bool listed_ = false, read_ = false;
  int64_t listed_at_ms_ = 0;
  std::vector<ObjectInfo> objects_;
  std::vector<PendingUpload> pending_;
  LedgerSnapshot ledger_;
};

// True if OWNER ("node/pid") is a process of NODE on this machine that no longer exists.
bool OwnerIsDeadLocalProcess(const std::string& owner, const std::string& node);

}  // namespace strata
