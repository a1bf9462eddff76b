// Archive::Delete: rows first, then files, then objects (docs/safety.md, "Deleting").
#include <chrono>
#include <functional>
#include <map>
#include <set>

#include "archive/archive.h"
#include "archive/delete_tombstone.h"
#include "archive/lifecycle_log.h"
#include "util/log.h"

namespace strata {
namespace {
int64_t WallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

Result<DeleteReport> Archive::Delete(const std::string& study_uid, const std::string& series_uid,
                                     const std::string& sop_uid, const std::string& who) {
  LifecycleCause cause;
  cause.who = who;
  return Delete(study_uid, series_uid, sop_uid, cause);
}

Result<DeleteReport> Archive::Delete(const std::string& study_uid, const std::string& series_uid,
                                     const std::string& sop_uid, const LifecycleCause& cause) {
  if (!sop_uid.empty() && series_uid.empty()) {
    // The instance must belong to the study named; its series is looked up.
    STRATA_ASSIGN_OR_RETURN(auto row, catalog_->GetInstance(sop_uid));
    if (row.study_uid != study_uid) return Status::NotFound("instance " + sop_uid + " is not in study " + study_uid);
  }
  auto rows = catalog_->ListInstances(study_uid, series_uid, sop_uid);
  if (!rows.ok() && !rows.status().IsNotFound()) return rows.status();
  return DeleteRows(study_uid, rows.ok() ? std::move(rows).value() : std::vector<InstanceRecord>{},
                    [&] { return catalog_->DeleteInstances(study_uid, series_uid, sop_uid, cause); });
}

Result<DeleteReport> Archive::DeleteList(const std::string& study_uid, const std::vector<std::string>& sop_uids,
                                         const LifecycleCause& cause) {
  auto rows = catalog_->ListInstances(study_uid, "", "");
  if (!rows.ok() && !rows.status().IsNotFound()) return rows.status();
  std::vector<InstanceRecord> named;
  if (rows.ok()) {
    const std::set<std::string> wanted(sop_uids.begin(), sop_uids.end());
    for (auto& r : rows.value())
      if (wanted.count(r.sop_uid)) named.push_back(std::move(r));
  }
  return DeleteRows(study_uid, std::move(named),
                    [&] { return catalog_->DeleteInstanceList(study_uid, sop_uids, cause); });
}

Result<DeleteReport> Archive::DeleteRows(const std::string& study_uid, std::vector<InstanceRecord> rows,
                                         const std::function<Result<DeletedInstances>()>& delete_rows) {
  // The tombstone in the cold store first (archive/delete_tombstone.h): a catalog rebuilt
  // from the stores must not bring these instances back from a pack not yet compacted.
  std::string tombstone;
  std::map<std::string, int64_t> covered;
  if (!rows.empty()) {
    tombstone = TombstoneKey(study_uid, WallClockMs(), rows);
    Status t = WriteTombstone(cold_.get(), tombstone, rows);
    if (!t.ok())  // kept as the store said (kUnavailable, kNoSpace...): the delete may be retried
      return t.WithContext("delete refused, nothing changed: its tombstone could not be written to the cold store");
    for (const auto& r : rows) covered[r.sop_uid] = r.received_ms;
  }
  // Anything but OK (kUnknownOutcome included) leaves every file and object where it is: a
  // row may still name them.
  auto deleted = delete_rows();
  if (!deleted.ok()) {
    if (!tombstone.empty() && deleted.status().code() != Status::Code::kUnknownOutcome) {
      Status d = cold_->Delete(tombstone);  // the rows stay: so must the instances at a rebuild
      if (!d.ok()) spdlog::warn("event=delete_tombstone_left key={} error=\"{}\"", tombstone, d.ToString());
    }
    return deleted.status();
  }
  DeletedInstances gone = std::move(deleted).value();
  {
    std::vector<InstanceRecord> extra;  // stored while the delete ran
    for (const auto& r : gone.instances) {
      auto it = covered.find(r.sop_uid);
      if (it == covered.end() || it->second < r.received_ms) extra.push_back(r);
    }
    if (!extra.empty()) {
      const std::string key = TombstoneKey(study_uid, WallClockMs(), extra);
      Status t = WriteTombstone(cold_.get(), key, extra);
      if (!t.ok())
        spdlog::error("event=delete_tombstone_failed key={} instances={} error=\"{}\" note=\"a catalog rebuild "
                      "would bring them back until their pack is compacted\"",
                      key, extra.size(), t.ToString());
    }
  }
  DeleteReport rep;
  uint64_t hot_failed = 0;
  for (const auto& r : gone.instances) {
    if (r.location.hot_path.empty()) continue;  // packed, its hot trail already cleaned up
    // A store of the same UID right after the delete may have a row at another path; ours
    // is unique, but a row naming it (the reconciler re-indexing) keeps it (I2).
    auto again = catalog_->GetInstance(r.sop_uid);
    if (again.ok() && again->location.hot_path == r.location.hot_path) continue;
    if (!again.ok() && !again.status().IsNotFound()) {
      ++hot_failed;  // the catalog cannot say: the tombstone lets the reconciler finish it
      continue;
    }
    Status s = hot_->Remove(r.location.hot_path);
    if (s.ok() || s.IsNotFound()) {
      ++rep.hot_files_removed;
    } else {
      ++hot_failed;
      spdlog::warn("event=delete_hot_remove_failed path={} error=\"{}\"", r.location.hot_path, s.ToString());
    }
  }
  if (!gone.emptied_packs.empty()) {
    // The pack rows went with the last instances, in the same transaction. An object may go
    // once no row references it and no claim that could still switch names it.
    auto snap = catalog_->ReadLedgerSnapshot();
    if (snap.ok()) {
      std::set<std::string> keep(snap->referenced_packs.begin(), snap->referenced_packs.end());
      for (const auto& m : snap->claims)
        if (m.state == "claimed" || m.state == "uploaded") keep.insert(m.pack_key);
      for (const auto& key : gone.emptied_packs) {
        if (keep.count(key)) continue;
        Status d = cold_->Delete(key);
        if (d.ok() || d.IsNotFound()) rep.packs_deleted.push_back(key);
        else spdlog::warn("event=delete_pack_failed pack={} error=\"{}\"", key, d.ToString());  // the janitor retries
      }
    }
  }
  rep.packs_to_compact = gone.thinned_packs;
  std::set<std::string> series;
  for (const auto& r : gone.instances) series.insert(r.series_uid);
  spdlog::info("event=delete {} series_touched={} hot_files={} hot_left_for_reconcile={} packs_deleted={} "
               "packs_to_compact={}",
               LifecycleLogFields(gone.event), series.size(), rep.hot_files_removed, hot_failed,
               rep.packs_deleted.size(), rep.packs_to_compact.size());
  rep.deleted = std::move(gone.instances);
  return rep;
}

}  // namespace strata

namespace strata {

Result<size_t> Archive::DeleteRejected(int64_t grace_ms, size_t limit, const std::string& who) {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
  STRATA_ASSIGN_OR_RETURN(auto due, catalog_->RejectedBefore(now_ms - grace_ms, limit));
  // One delete per study (one transaction, one lifecycle event with the count), in the order
  // the studies' first rejections are due; its reason names the notes and reasons involved.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const RejectionRecord*>> by_study;
  for (const auto& r : due) {
    auto& list = by_study[r.study_uid];
    if (list.empty()) order.push_back(r.study_uid);
    list.push_back(&r);
  }
  size_t deleted = 0;
  for (const auto& study_uid : order) {
    const auto& list = by_study[study_uid];
    std::vector<std::string> sops;
    std::set<std::string> reasons;
    for (const RejectionRecord* r : list) {
      sops.push_back(r->sop_uid);
      reasons.insert(r->reason_code + " by note " + r->note_sop_uid);
    }
    LifecycleCause cause;
    cause.action = "rejected-expired";
    cause.who = who;
    for (const auto& reason : reasons) cause.reason += (cause.reason.empty() ? "rejected " : ", ") + reason;
    cause.reason += ", grace period over";
    auto rep = DeleteList(study_uid, sops, cause);
    if (rep.ok()) deleted += rep->deleted.size();
    else if (!rep.status().IsNotFound()) return rep.status();  // NotFound: deleted meanwhile
  }
  return deleted;
}

}  // namespace strata
