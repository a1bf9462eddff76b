// Archive::ReconcileHot: the hot tier against the catalog (issue 10, defect 10). A store
// renames its file into the layout, syncs the filesystem, then commits the row; a crash in
// between leaves a complete file that nobody acknowledged and no row points at.
#include <chrono>
#include <functional>
#include <set>

#include "archive/archive.h"
#include "dicom/dataset_reader.h"
#include "util/checksum.h"
#include "util/clock.h"
#include "util/file_util.h"
#include "util/log.h"

namespace strata {
namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool IsHexByte(const std::string& s) {
  return s.size() == 2 && std::isxdigit(static_cast<unsigned char>(s[0])) &&
         std::isxdigit(static_cast<unsigned char>(s[1]));
}

// The layout: <h1>/<h2>/<study>/<series>/<file>. Depth 0 is the root.
constexpr int kFileDepth = 4;

class Reconciler {
 public:
  Reconciler(Archive* a, int64_t grace_ms, ReconcileReport* rep, bool dry_run, const std::function<bool()>& stop)
      : a_(a), env_(a->env()), root_(a->hot()->root()), grace_ms_(grace_ms), rep_(rep), dry_run_(dry_run),
        stop_(stop), now_ms_(NowMs()) {}

  // Walks DIR (relative; "" = root) at DEPTH. Returns whether DIR is empty afterwards.
  Status Walk(const std::string& rel, int depth, bool* empty) {
    const std::string abs = rel.empty() ? root_ : JoinPath(root_, rel);
    auto names = env_->ListDir(abs);
    if (!names.ok()) {
      if (names.status().IsNotFound()) return Status::OK();  // removed meanwhile
      return names.status();
    }
    size_t left = names->size();
    for (const auto& name : names.value()) {
      if (stop_ && stop_()) return Status::OK();  // what is left waits for the next pass
      const std::string child_rel = rel.empty() ? name : JoinPath(rel, name);
      const std::string child_abs = JoinPath(root_, child_rel);
      bool gone = false;
      if (depth == 0 && !name.empty() && name[0] == '.') continue;  // .incoming and the like
      if (env_->IsDirectory(child_abs)) {
        // Only the layout's shape is ours to clean; anything else is left alone.
        if (depth >= kFileDepth || (depth < 2 && !IsHexByte(name))) continue;
        bool child_empty = false, missing = false;
        // Its age before we remove anything inside (which makes it look new).
        const bool young_dir = Young(child_abs, &missing);
        if (depth == 2) study_ = name;
        STRATA_RETURN_IF_ERROR(Walk(child_rel, depth + 1, &child_empty));
        if (depth == 2) referenced_.reset();
        if (child_empty && !young_dir) RemoveEmptyDir(child_rel, &gone);
      } else if (name.find(".tmp-") != std::string::npos) {
        STRATA_RETURN_IF_ERROR(TempFile(child_rel, &gone));
      } else if (depth == kFileDepth && EndsWith(name, ".dcm")) {
        STRATA_RETURN_IF_ERROR(DcmFile(child_rel, name, &gone));
      }
      if (gone) --left;
    }
    *empty = left == 0;
    return Status::OK();
  }

 private:
  bool Young(const std::string& abs, bool* missing) {
    auto m = env_->ModifiedMs(abs);
    *missing = !m.ok() && m.status().IsNotFound();
    return !m.ok() || now_ms_ - m.value() < grace_ms_;
  }

  // A young directory may be one a store is about to rename into, so only old ones come
  // here; a store that took one in meanwhile makes rmdir fail (not empty), which is fine, and
  // HotStore::Place makes the chain again if it lost the race.
  void RemoveEmptyDir(const std::string& rel, bool* gone) {
    if (dry_run_) return;
    if (Status s = env_->RemoveDir(JoinPath(root_, rel)); !s.ok()) {
      spdlog::debug("hot reconcile: keeping {}: {}", rel, s.ToString());
      return;
    }
    ++rep_->dirs_removed;
    *gone = true;
  }

  Status TempFile(const std::string& rel, bool* gone) {
    bool missing = false;
    if (Young(JoinPath(root_, rel), &missing)) return Status::OK();
    rep_->unknown.push_back(rel);
    if (dry_run_) return Status::OK();
    STRATA_RETURN_IF_ERROR(env_->RemoveFile(JoinPath(root_, rel)));
    spdlog::info("event=hot_reconcile action=remove reason=orphan_temp path={}", rel);
    ++rep_->temp_removed;
    *gone = true;
    return Status::OK();
  }

  // The hot paths the catalog's rows of the current study point at (hot rows, and cold rows
  // whose hot file is not cleaned up yet).
  Result<const std::set<std::string>*> Referenced() {
    if (!referenced_) {
      STRATA_ASSIGN_OR_RETURN(auto rows, a_->catalog()->ListInstances(study_, "", ""));
      referenced_ = std::make_unique<std::set<std::string>>();
      for (const auto& r : rows)
        if (!r.location.hot_path.empty()) referenced_->insert(r.location.hot_path);
    }
    return referenced_.get();
  }

  Status DcmFile(const std::string& rel, const std::string& name, bool* gone) {
    ++rep_->files;
    STRATA_ASSIGN_OR_RETURN(const std::set<std::string>* refs, Referenced());
    if (refs->count(rel)) {
      ++rep_->referenced;
      return Status::OK();
    }
    const std::string abs = JoinPath(root_, rel);
    bool missing = false;
    if (Young(abs, &missing)) {
      if (!missing) ++rep_->young;  // maybe a store in flight, here or on another node
      return Status::OK();
    }
    rep_->unknown.push_back(rel);
    if (dry_run_) return Status::OK();
    auto bytes = env_->ReadFile(abs);
    if (!bytes.ok()) {
      if (bytes.status().IsNotFound()) return Status::OK();
      return bytes.status();
    }
    InstanceRecord r;
    if (Status p = ReadInstanceAttributesFromBuffer(bytes.value(), &r); !p.ok())
      return Remove(rel, "unreadable", gone);
    r.size = bytes->size();
    r.checksum = Xxh3Hex(bytes.value());
    // The name carries the checksum the store computed: a file cut short by the crash (its
    // data never synced) does not match it and was never acknowledged.
    const std::string expect = r.sop_uid + "." + r.checksum.substr(0, 8) + ".";
    if (name.compare(0, expect.size(), expect) != 0) return Remove(rel, "incomplete", gone);
    auto row = a_->catalog()->GetInstance(r.sop_uid);
    if (row.ok()) {
      if (row->location.hot_path == rel) {  // committed since we listed the study
        ++rep_->referenced;
        return Status::OK();
      }
      return Remove(rel, "superseded", gone);
    }
    if (!row.status().IsNotFound()) return row.status();
    // Deleted (the deleting process died before it unlinked the file): never bring it back.
    STRATA_ASSIGN_OR_RETURN(bool deleted, a_->catalog()->IsDeleted(r.sop_uid));
    if (deleted) return Remove(rel, "deleted", gone);
    // No row for this SOP Instance UID at all: the file is complete, so keep it. It must be
    // durable before a row may point at it, as in the group commit.
    STRATA_RETURN_IF_ERROR(env_->SyncFilesystem(root_));
    auto mtime = env_->ModifiedMs(abs);
    r.received_ms = mtime.ok() ? mtime.value() : now_ms_;
    r.location.tier = Location::Tier::kHot;
    r.location.hot_path = rel;
    STRATA_ASSIGN_OR_RETURN(auto added, a_->catalog()->AddInstances({r}, /*replace=*/false));
    const AddResult& ar = added.at(0);
    if (ar.outcome == AddOutcome::kAdded) {
      spdlog::info("event=hot_reconcile action=reindex path={} sop={}", rel, r.sop_uid);
      ++rep_->reindexed;
      return Status::OK();
    }
    // A store of the same UID committed meanwhile; its row points elsewhere.
    if (ar.previous && ar.previous->location.hot_path == rel) return Status::OK();
    return Remove(rel, "superseded", gone);
  }

  Status Remove(const std::string& rel, const char* reason, bool* gone) {
    STRATA_RETURN_IF_ERROR(env_->RemoveFile(JoinPath(root_, rel)));
    spdlog::info("event=hot_reconcile action=remove reason={} path={}", reason, rel);
    ++rep_->removed;
    *gone = true;
    return Status::OK();
  }

  Archive* a_;
  Env* env_;
  std::string root_;
  int64_t grace_ms_;
  ReconcileReport* rep_;
  bool dry_run_;
  const std::function<bool()>& stop_;
  int64_t now_ms_;
  std::string study_;
  std::unique_ptr<std::set<std::string>> referenced_;
};

}  // namespace

Status Archive::ReconcileHot(int64_t grace_ms, ReconcileReport* report, bool dry_run,
                             const std::function<bool()>& stop) {
  ReconcileReport local;
  ReconcileReport* rep = report ? report : &local;
  Reconciler r(this, grace_ms, rep, dry_run, stop);
  bool empty = false;
  STRATA_RETURN_IF_ERROR(r.Walk("", 0, &empty));
  if (rep->reindexed || rep->removed || rep->temp_removed)
    spdlog::info("event=hot_reconcile_done files={} reindexed={} removed={} temp_removed={} dirs_removed={} young={}",
                 rep->files, rep->reindexed, rep->removed, rep->temp_removed, rep->dirs_removed, rep->young);
  return Status::OK();
}

}  // namespace strata
