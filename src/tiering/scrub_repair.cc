#include "tiering/scrub_repair.h"

#include <map>

#include "tiering/replicator.h"
#include "util/log.h"

namespace strata {
namespace {

// Restores KEY in TO from FROM (whose copy was verified), then reads TO's copy back.
Status Restore(ColdStore* from, ColdStore* to, const PackRecord& p) {
  STRATA_RETURN_IF_ERROR(Replicator::CopyObject(from, to, p.pack_key, p.size, 16ull << 20));
  return Replicator::VerifyPackObject(to, p.pack_key, p.size, p.checksum).WithContext("read back after the restore");
}

// True while P still has its pack row. A pack retired after the pass listed it (compacted,
// consolidated, deleted) has its objects deleted on purpose: it is neither lost nor to be
// restored (a restored copy would be an orphan nobody deletes). Its objects go only after
// its row, so a row seen after a restore means the restored copy will be deleted with it.
Result<bool> StillLive(Catalog* cat, const PackRecord& p) {
  STRATA_ASSIGN_OR_RETURN(auto packs, cat->ListPacks(p.study_uid));
  for (const auto& q : packs)
    if (q.pack_key == p.pack_key) return true;
  return false;
}

}  // namespace

Result<RepairReport> RepairPacks(Archive* archive, ColdStore* replica, const RepairOptions& opt,
                                 const std::function<bool()>& stop) {
  RepairReport rep;
  Catalog* cat = archive->catalog();
  ColdStore* primary = archive->cold();
  STRATA_ASSIGN_OR_RETURN(auto packs, cat->ListPacks(""));
  std::map<std::string, std::string> state;  // pack key -> backup queue state
  STRATA_ASSIGN_OR_RETURN(auto tasks, cat->ListReplicaTasks("", 0));
  for (const auto& t : tasks) state[t.pack_key] = t.state;
  uint64_t done = 0;
  for (const PackRecord& p : packs) {
    if (stop && stop()) break;
    if (opt.progress) opt.progress(done++, packs.size());
    if (done > 1 && opt.pause_ms > 0) {
      if (stop && stop()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(opt.pause_ms));
    }
    ++rep.packs;
    Status in_primary = Replicator::VerifyPackObject(primary, p.pack_key, p.size, p.checksum);
    Status in_replica = Replicator::VerifyPackObject(replica, p.pack_key, p.size, p.checksum);
    const bool replica_expected = state[p.pack_key] == "replicated";
    if (in_primary.code() == Status::Code::kUnavailable || in_replica.code() == Status::Code::kUnavailable) {
      rep.problems.push_back("pack " + p.pack_key + ": a store is unreachable (primary: " + in_primary.ToString() +
                             "; replica: " + in_replica.ToString() + ")");
      continue;
    }
    if (in_primary.ok() && (in_replica.ok() || !replica_expected)) continue;
    STRATA_ASSIGN_OR_RETURN(bool live, StillLive(cat, p));
    if (!live) {  // retired meanwhile: its objects went on purpose
      --rep.packs;
      continue;
    }
    if (!in_primary.ok() && !in_replica.ok()) {
      rep.problems.push_back("pack " + p.pack_key + ": bad in both stores, unrecoverable (primary: " +
                             in_primary.ToString() + "; replica: " + in_replica.ToString() + ")");
      spdlog::error("event=pack_unrecoverable pack={} primary=\"{}\" replica=\"{}\"", p.pack_key,
                    in_primary.ToString(), in_replica.ToString());
      continue;
    }
    const bool fix_primary = !in_primary.ok();
    const std::string what = (fix_primary ? "primary " : "replica ") + p.pack_key + ": " +
                             (fix_primary ? in_primary : in_replica).ToString();
    if (opt.dry_run) {
      rep.problems.push_back(what + " (would be restored from the " + (fix_primary ? "replica)" : "primary)"));
      continue;
    }
    Status s = fix_primary ? Restore(replica, primary, p) : Restore(primary, replica, p);
    if (s.ok()) {
      STRATA_ASSIGN_OR_RETURN(bool still, StillLive(cat, p));
      if (!still) {  // retired during the restore: take the copy back, its deleter may have run
        ColdStore* target = fix_primary ? primary : replica;
        Status d = target->Delete(p.pack_key);
        if (!d.ok() && !d.IsNotFound())
          spdlog::warn("event=pack_restore_undo_failed pack={} error=\"{}\"", p.pack_key, d.ToString());
        --rep.packs;
        continue;
      }
    }
    if (!s.ok()) {
      rep.problems.push_back(what + "; the restore failed: " + s.ToString());
      spdlog::error("event=pack_restore_failed pack={} target={} error=\"{}\"", p.pack_key,
                    fix_primary ? "primary" : "replica", s.ToString());
      continue;
    }
    (fix_primary ? rep.primary_restored : rep.replica_restored)++;
    rep.repaired.push_back(what);
    spdlog::warn("event=pack_restored pack={} target={} was=\"{}\"", p.pack_key, fix_primary ? "primary" : "replica",
                 (fix_primary ? in_primary : in_replica).ToString());
  }
  return rep;
}

bool PackScrubber::Wait(int64_t ms) {
  std::unique_lock<std::mutex> lk(mu_);
  return cv_.wait_for(lk, std::chrono::milliseconds(ms), [&] { return stop_; });
}

void PackScrubber::Start() {
  thread_ = std::thread([this] {
    for (;;) {
      if (Wait(opt_.interval_ms)) return;
      RepairOptions o = opt_;
      auto r = RepairPacks(archive_, replica_, o, [this] {
        std::lock_guard<std::mutex> lk(mu_);
        return stop_;
      });
      if (!r.ok()) spdlog::warn("event=scrub_run error=\"{}\"", r.status().ToString());
      else
        spdlog::info("event=scrub_run packs={} primary_restored={} replica_restored={} problems={}", r->packs,
                     r->primary_restored, r->replica_restored, r->problems.size());
    }
  });
}

void PackScrubber::Stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace strata
