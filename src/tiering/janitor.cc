#include "tiering/janitor.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "util/clock.h"
#include "util/log.h"

namespace strata {

bool OwnerIsDeadLocalProcess(const std::string& owner, const std::string& node) {
  auto slash = owner.rfind('/');
  if (slash == std::string::npos || owner.substr(0, slash) != node) return false;
  pid_t pid = static_cast<pid_t>(std::atoll(owner.c_str() + slash + 1));
  if (pid <= 0 || pid == getpid()) return false;
  return kill(pid, 0) != 0 && errno == ESRCH;
}

Janitor::Janitor(Archive* archive, const TieringOptions& options, Catalog* catalog)
    : archive_(archive), catalog_(catalog ? catalog : archive->catalog()), opt_(options) {}

Status Janitor::Run() {
  STRATA_RETURN_IF_ERROR(RemoveHotLeftovers());
  for (int round = 0; round < 2; ++round) {
    STRATA_RETURN_IF_ERROR(ListStore());
    STRATA_RETURN_IF_ERROR(ReadLedger());
    STRATA_ASSIGN_OR_RETURN(int marked, Sweep());
    if (marked == 0) break;
  }
  return Status::OK();
}

Status Janitor::RemoveHotLeftovers() {
  Catalog* cat = catalog_;
  for (;;) {
    STRATA_ASSIGN_OR_RETURN(auto left, cat->ListLeftoverHotFiles(1000));
    if (left.empty()) break;
    std::vector<std::string> cleared;
    for (const auto& r : left) {
      // The row points at the pack (tier cold): the hot copy is a leftover whatever happens.
      Status rm = archive_->hot()->Remove(r.location.hot_path);
      if (rm.ok() || rm.IsNotFound()) cleared.push_back(r.sop_uid);
    }
    STRATA_RETURN_IF_ERROR(cat->ClearHotPaths(cleared));
    spdlog::info("event=cleanup_hot_leftovers files={}", cleared.size());
    if (cleared.size() < left.size()) break;
  }
  return Status::OK();
}

Status Janitor::ListStore() {
  ColdStore* cold = archive_->cold();
  listed_at_ms_ = NowMs();
  STRATA_ASSIGN_OR_RETURN(objects_, cold->List("packs/"));
  STRATA_ASSIGN_OR_RETURN(pending_, cold->ListPendingUploads(""));
  listed_ = true;
  read_ = false;
  return Status::OK();
}

Status Janitor::ReadLedger() {
  if (!listed_) return Status::Internal("Janitor::ReadLedger before ListStore");
  STRATA_ASSIGN_OR_RETURN(ledger_, catalog_->ReadLedgerSnapshot());
  read_ = true;
  return Status::OK();
}

Result<int> Janitor::Sweep() {
  if (!listed_ || !read_) return Status::Internal("Janitor::Sweep before ListStore and ReadLedger");
  listed_ = read_ = false;  // one sweep per listing and snapshot
  Catalog* cat = catalog_;
  ColdStore* cold = archive_->cold();
  const std::set<std::string> referenced(ledger_.referenced_packs.begin(), ledger_.referenced_packs.end());
  std::set<std::string> protect;  // pack keys of claims not fenced off at the snapshot
  int marked = 0;
  for (const auto& m : ledger_.claims) {
    if (m.state == "done" || m.state == "failed") continue;
    const bool expired = m.lease_until_ms <= ledger_.db_now_ms;
    if (!expired) protect.insert(m.pack_key);
    if (expired || OwnerIsDeadLocalProcess(m.node, opt_.node_id)) {
      Status s = cat->FinishMigration(m.study_uid, m.token, "failed", "interrupted (" + m.state + "); cleaned up",
                                      m.lease_until_ms);
      if (s.ok()) ++marked;
      else if (s.code() != Status::Code::kConflict) return s;  // kConflict: renewed or taken over meanwhile
    }
  }
  const int64_t grace = opt_.orphan_grace();
  // Multipart uploads nobody may complete usefully: their key belongs to no unfenced claim,
  // so the upload's owner can never switch to it; aborting makes its Complete fail, which is
  // a definite "not switched". One without a key (a local temp file) is judged by age alone.
  for (const auto& u : pending_) {
    if (u.key.empty() ? listed_at_ms_ - u.initiated_ms < grace
                      : (u.key.rfind("packs/", 0) != 0 || protect.count(u.key) || referenced.count(u.key)))
      continue;
    Status s = cold->AbortPendingUpload(u);
    spdlog::info("event=cleanup_abort_upload key={} status=\"{}\"", u.key, s.ToString());
  }
  // Pack objects that existed at the listing and that nothing references or may reference.
  for (const auto& o : objects_) {
    if (referenced.count(o.key) || protect.count(o.key)) continue;
    if (grace > 0 && (o.modified_ms <= 0 || listed_at_ms_ - o.modified_ms < grace)) continue;  // unknown age: keep
    Status s = cold->Delete(o.key);
    spdlog::info("event=cleanup_orphan_pack key={} status=\"{}\"", o.key, s.ToString());
  }
  return marked;
}

}  // namespace strata
