// GroupCommitter: many concurrent stores share one round of directory syncs and one catalog
// transaction. Each store submits its record (its file's data already fdatasync'ed by the
// store, the file renamed into the hot tier) and blocks until the batch holding it is
// durable: first the names of the batch's files (hot/durable_dirs.h: the directories they
// were renamed into, and the levels above that this process does not know durable yet),
// then the catalog commit. A catalog row therefore never points at a file that could vanish
// in a crash. Only what the batch needs is synced, not the whole filesystem (syncfs also
// flushed every other writer's dirty pages) and not every level of the layout (each fsync is
// a disk cache flush, even on a clean directory).
#pragma once

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hot/durable_dirs.h"
#include "index/catalog.h"
#include "util/env.h"

namespace strata {

class GroupCommitter {
 public:
  // CATALOG and ENV must outlive the committer; the hot tier's directories are synced through ENV.
  GroupCommitter(Catalog* catalog, Env* env, std::string hot_root, bool replace_duplicates, size_t max_batch = 256);
  ~GroupCommitter();  // commits what is queued, then stops

  // Makes the name of RECORD's hot file durable (DurableDirs) and adds RECORD to the
  // catalog; returns once both are on disk. The caller must have made the file's data durable (Env::SyncFile) before.
  // When the catalog commit's outcome is unknown (its answer was lost), each record is read
  // back before anything is answered: found with the same checksum -> kAdded (or kIdentical
  // if the row points elsewhere); absent -> kUnavailable (not added; the sender may retry).
  // If even the read-back fails, Commit returns kUnknownOutcome: a row may reference the
  // placed file, so the caller (StoreFile) must leave that file alone on this code and fail
  // the store; the hot-tier reconcile re-indexes or removes it later.
  Result<AddResult> Commit(const InstanceRecord& record);

  uint64_t batches() const { return batches_; }
  uint64_t dir_syncs() const { return dirs_.dir_syncs(); }

 private:
  struct Item {
    InstanceRecord record;
    std::promise<Result<AddResult>> done;
  };
  void Run();
  void CommitBatch(std::vector<Item*>& batch);
  // After an unknown commit outcome: what the catalog now says about RECORD.
  Result<AddResult> ReadBack(const InstanceRecord& record, const Status& why);

  Catalog* catalog_;
  DurableDirs dirs_;
  bool replace_;
  size_t max_batch_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item*> queue_;
  bool stop_ = false;
  uint64_t batches_ = 0;
  std::thread thread_;
};

}  // namespace strata
