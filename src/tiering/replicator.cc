#include "tiering/replicator.h"

#include <algorithm>
#include <ctime>
#include <set>

#include "archive/correction_log.h"
#include "archive/delete_tombstone.h"
#include "pack/pack_reader.h"
#include "tiering/migration_scheduler.h"
#include "util/checksum.h"
#include "util/log.h"

namespace strata {

Replicator::Replicator(Archive* archive, ColdStore* replica, ReplicatorOptions options)
    : archive_(archive), replica_(replica), opt_(std::move(options)) {}

Replicator::~Replicator() { Stop(); }

Status Replicator::CopyObject(ColdStore* from, ColdStore* to, const std::string& key, uint64_t size,
                              uint64_t part_size) {
  part_size = std::max<uint64_t>(part_size, to->min_part_size());
  if (size <= part_size) {
    STRATA_ASSIGN_OR_RETURN(std::string bytes, from->Get(key));
    if (bytes.size() != size)
      return Status::Corruption("pack " + key + " is " + std::to_string(bytes.size()) + " bytes in " +
                                from->Describe() + ", the catalog says " + std::to_string(size));
    return to->Put(key, bytes);
  }
  STRATA_ASSIGN_OR_RETURN(auto up, to->StartUpload(key));
  int part = 1;
  for (uint64_t off = 0; off < size; off += part_size, ++part) {
    auto bytes = from->GetRange(key, off, std::min(part_size, size - off));
    Status s = bytes.ok() ? up->PutPart(part, bytes.value()) : bytes.status();
    if (!s.ok()) {
      (void)up->Abort();
      return s;
    }
  }
  return up->Complete();
}

Status Replicator::VerifyPackObject(ColdStore* store, const std::string& key, uint64_t size,
                                    const std::string& checksum) {
  STRATA_ASSIGN_OR_RETURN(ObjectInfo info, store->Head(key));
  if (info.size != size)
    return Status::Corruption("pack " + key + " in " + store->Describe() + " is " + std::to_string(info.size) +
                              " bytes, not " + std::to_string(size));
  STRATA_ASSIGN_OR_RETURN(
      PackReader reader,
      PackReader::Open([store, key](uint64_t o, uint64_t l) { return store->GetRange(key, o, l); }, size, key));
  if (HexU64(reader.manifest_xxh3()) != checksum)
    return Status::Corruption("pack " + key + " in " + store->Describe() + " has another manifest (" +
                              HexU64(reader.manifest_xxh3()) + ", the catalog's is " + checksum + ")");
  for (const PackEntry& e : reader.entries()) {
    auto bytes = reader.ReadEntry(e.name);  // CRC-32 and XXH3
    if (!bytes.ok()) return bytes.status().WithContext("pack " + key + " in " + store->Describe() + " entry " + e.name);
  }
  return Status::OK();
}

Status Replicator::ReplicateOne(const ReplicaTask& task, ReplicateReport* rep) {
  // A copy already there and sound (an earlier pass died before recording it) is not re-sent.
  Status have = VerifyPackObject(replica_, task.pack_key, task.size, task.checksum);
  if (!have.ok()) {
    if (have.code() == Status::Code::kUnavailable) return have;
    STRATA_RETURN_IF_ERROR(CopyObject(archive_->cold(), replica_, task.pack_key, task.size, opt_.part_size));
    rep->bytes += task.size;
    // Read back from the replica: what it stored, not what we sent, is what counts.
    STRATA_RETURN_IF_ERROR(VerifyPackObject(replica_, task.pack_key, task.size, task.checksum)
                               .WithContext("read back after the copy"));
  }
  return Status::OK();
}

Status Replicator::CopyRecords(const std::string& prefix, bool mirror_removals, uint64_t* copied) {
  STRATA_ASSIGN_OR_RETURN(auto primary, archive_->cold()->List(prefix));
  STRATA_ASSIGN_OR_RETURN(auto copies, replica_->List(prefix));
  std::set<std::string> have, source;
  for (const auto& o : copies) have.insert(o.key);
  for (const auto& o : primary) {
    source.insert(o.key);
    if (have.count(o.key)) continue;
    auto bytes = archive_->cold()->Get(o.key);
    if (bytes.status().IsNotFound()) continue;
    if (!bytes.ok()) return bytes.status();
    STRATA_RETURN_IF_ERROR(replica_->Put(o.key, bytes.value()));
    ++*copied;
  }
  if (!mirror_removals) return Status::OK();
  for (const auto& key : have) {
    if (source.count(key)) continue;
    // Written after our listing and copied by another pass, or really gone: ask the primary.
    auto still = archive_->cold()->Get(key);
    if (still.ok()) continue;
    if (!still.status().IsNotFound()) return still.status();
    Status d = replica_->Delete(key);
    if (!d.ok()) spdlog::warn("event=replica_remove_failed record={} error=\"{}\"", key, d.ToString());
  }
  return Status::OK();
}

Result<ReplicateReport> Replicator::RunOnce(const std::function<bool()>& stop) {
  ReplicateReport rep;
  Catalog* cat = archive_->catalog();
  std::vector<std::string> gone;
  STRATA_ASSIGN_OR_RETURN(rep.queued, cat->QueueUnreplicatedPacks(&gone));
  for (const auto& key : gone) {
    Status d = replica_->Delete(key);
    if (d.ok()) ++rep.removed;
    else spdlog::warn("event=replica_remove_failed pack={} error=\"{}\"", key, d.ToString());
  }
  Status ts = CopyRecords(kTombstonePrefix, /*mirror_removals=*/false, &rep.tombstones);
  if (!ts.ok()) rep.errors.push_back("tombstones: " + ts.ToString());
  Status cs = CopyRecords(kCorrectionLogPrefix, /*mirror_removals=*/true, &rep.correction_records);
  if (!cs.ok()) rep.errors.push_back("correction records: " + cs.ToString());
  STRATA_ASSIGN_OR_RETURN(auto tasks, cat->ReplicaTasksDue(opt_.batch));
  for (const auto& t : tasks) {
    if (stop && stop()) break;
    Status s = ReplicateOne(t, &rep);
    if (s.ok()) {
      STRATA_RETURN_IF_ERROR(cat->FinishReplicaTask(t.pack_key, "", 0));
      ++rep.replicated;
      spdlog::info("event=replicated pack={} study={} bytes={} attempts={}", t.pack_key, t.study_uid, t.size,
                   t.attempts + 1);
      continue;
    }
    const int shift = static_cast<int>(std::min<int64_t>(t.attempts, 20));
    const int64_t retry = std::min(opt_.retry_max_ms, opt_.retry_base_ms << shift);
    STRATA_RETURN_IF_ERROR(cat->FinishReplicaTask(t.pack_key, s.ToString(), retry));
    ++rep.failed;
    rep.errors.push_back(t.pack_key + ": " + s.ToString());
    spdlog::warn("event=replicate_failed pack={} attempts={} retry_in_ms={} error=\"{}\"", t.pack_key,
                 t.attempts + 1, retry, s.ToString());
  }
  return rep;
}

void Replicator::Start() {
  thread_ = std::thread([this] {
    for (bool first = true;; first = false) {
      {
        std::unique_lock<std::mutex> lk(mu_);
        if (!first && cv_.wait_for(lk, std::chrono::milliseconds(opt_.interval_ms), [&] { return stop_; })) return;
        if (stop_) return;
      }
      std::time_t t = std::time(nullptr);
      std::tm tm{};
      localtime_r(&t, &tm);
      if (!MigrationScheduler::InWindow(opt_.window, tm.tm_hour * 60 + tm.tm_min)) continue;
      auto r = RunOnce([this] {
        std::lock_guard<std::mutex> lk(mu_);
        return stop_;
      });
      if (!r.ok()) spdlog::warn("event=replicator_run error=\"{}\"", r.status().ToString());
      else if (r->queued || r->replicated || r->failed || r->removed)
        spdlog::info("event=replicator_run queued={} replicated={} failed={} bytes={} removed={}", r->queued,
                     r->replicated, r->failed, r->bytes, r->removed);
    }
  });
}

void Replicator::Stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace strata
