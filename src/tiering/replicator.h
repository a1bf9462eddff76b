// Replicator: the backup queue (issue 16). Copies every pack to a second cold store (the
// replica: another endpoint, bucket and credentials, or another directory) and counts it
// "replicated" only once the replica's copy was read back and verified: its size, its
// manifest's XXH3 (the pack row's checksum) and every entry's CRC-32 and XXH3.
//
// The queue lives in the catalog (Catalog::QueueUnreplicatedPacks and friends, schema v8):
// a pack row is written only after the converter verified its pack and switched to it, so
// every queued pack is a verified one. A failed copy or verification is retried with
// exponential backoff (retry_base_ms doubling up to retry_max_ms); a pack whose row went
// (compacted, consolidated, deleted) is removed from the replica too, but only in a pass that
// starts with no pack of its study pending (the old copies back the study up meanwhile). The delete tombstones
// (archive/delete_tombstone.h) and correction records (archive/correction_log.h) are copied as
// well, so a catalog can be rebuilt from the replica alone; a correction record the primary
// no longer holds (a refused change's, removed again) is removed from the replica too.
//
// Several nodes may run passes at once: a copy is an idempotent write of the same bytes. The
// primary and the catalog are only read (the queue rows aside). Threads: RunOnce from one
// thread at a time per Replicator; Start/Stop run it in a background thread.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "archive/archive.h"

namespace strata {

struct ReplicatorOptions {
  std::string window;                // "22:00-06:00" local time, like the converter's; empty = always
  int64_t interval_ms = 60 * 1000;   // background pass interval
  size_t batch = 32;                 // tasks per pass
  int64_t retry_base_ms = 30 * 1000;
  int64_t retry_max_ms = 3600 * 1000;
  uint64_t part_size = 16ull << 20;  // copy unit (and multipart part size)
};

struct ReplicateReport {
  uint64_t queued = 0;      // packs newly queued
  uint64_t replicated = 0;  // copied and verified
  uint64_t failed = 0;      // to be retried
  uint64_t bytes = 0;       // bytes copied
  uint64_t removed = 0;     // replica copies of packs that are gone
  uint64_t tombstones = 0;  // tombstones copied
  uint64_t correction_records = 0;  // correction records copied
  std::vector<std::string> errors;
};

class Replicator {
 public:
  // Does not own ARCHIVE or REPLICA; both must outlive it.
  Replicator(Archive* archive, ColdStore* replica, ReplicatorOptions options);
  ~Replicator();

  // One pass: queues new packs, copies and verifies the due ones (STOP polled between packs).
  // A catalog failure ends the pass with that error; a store failure is the task's.
  Result<ReplicateReport> RunOnce(const std::function<bool()>& stop = {});

  void Start();
  void Stop();

  // Copies KEY from FROM to TO in part_size pieces (no verification).
  [[nodiscard]] static Status CopyObject(ColdStore* from, ColdStore* to, const std::string& key, uint64_t size,
                                         uint64_t part_size);
  // Reads KEY in STORE back: SIZE, the manifest's XXH3 == CHECKSUM (hex), every entry.
  // kCorruption names the first bad part; kNotFound if absent.
  [[nodiscard]] static Status VerifyPackObject(ColdStore* store, const std::string& key, uint64_t size,
                                               const std::string& checksum);

 private:
  Status ReplicateOne(const ReplicaTask& task, ReplicateReport* rep);
  // Copies the objects under PREFIX the replica lacks; counts them in *COPIED. With
  // MIRROR_REMOVALS, removes the replica's objects under PREFIX that the primary no longer has.
  Status CopyRecords(const std::string& prefix, bool mirror_removals, uint64_t* copied);
  Archive* archive_;
  ColdStore* replica_;
  ReplicatorOptions opt_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace strata
