#include "archive/archive.h"

#include <chrono>
#include <deque>
#include <future>
#include <set>

#include "archive/group_committer.h"
#include "archive/instance_scan.h"
#include "archive/lifecycle_log.h"
#include "dicom/dataset_reader.h"
#include "dicom/dataset_scan.h"
#include "dicom/pixel_encoding.h"
#include "model/uid.h"
#include "util/checksum.h"
#include "util/clock.h"
#include "util/env.h"
#include "util/file_util.h"
#include "util/log.h"

namespace strata {

Result<DuplicatePolicy> ParseDuplicatePolicy(const std::string& s) {
  if (s == "keep") return DuplicatePolicy::kKeep;
  if (s == "replace") return DuplicatePolicy::kReplace;
  if (s == "reject") return DuplicatePolicy::kReject;
  return Status::InvalidArgument("duplicate policy must be keep, replace or reject, not '" + s + "'");
}

Archive::Archive(ArchiveOptions options) : options_(std::move(options)) {}
Archive::~Archive() = default;

Result<std::unique_ptr<Archive>> Archive::Open(const ArchiveOptions& options, ArchiveDeps deps) {
  std::unique_ptr<Archive> a(new Archive(options));
  a->env_ = deps.env ? deps.env : Env::Default();
  a->hot_ = std::make_unique<HotStore>(a->env_, options.hot_dir, options.node_id, options.hot);
  STRATA_RETURN_IF_ERROR(a->hot_->Init());
  if (deps.catalog) {
    a->catalog_ = std::move(deps.catalog);
  } else {
    STRATA_ASSIGN_OR_RETURN(a->catalog_, OpenCatalog(options.catalog));
  }
  if (deps.cold) {
    a->cold_ = std::move(deps.cold);
  } else {
    STRATA_ASSIGN_OR_RETURN(a->cold_, OpenColdStore(options.cold));
  }
  if (deps.replica) {
    a->replica_ = std::move(deps.replica);
  } else if (!options.replica.url.empty()) {
    auto r = OpenColdStore(options.replica);
    if (!r.ok()) return r.status().WithContext("replica store");
    a->replica_ = std::move(r).value();
  }
  a->committer_ = std::make_unique<GroupCommitter>(a->catalog_.get(), a->env_, a->hot_->root(),
                                                   options.duplicates == DuplicatePolicy::kReplace);
  return a;
}


void Archive::RemoveHotFileUnlessReferenced(const InstanceRecord& r) {
  // Our path is unique, but the hot reconciler may have re-indexed it meanwhile (a commit
  // slower than its grace): never unlink a path a row references. If the catalog cannot
  // say, keep the file; the reconciler settles it later.
  const std::string& relative = r.location.hot_path;
  auto row = catalog_->GetInstance(r.sop_uid);
  if (row.ok() && row->location.hot_path == relative) {
    spdlog::warn("event=hot_remove_skipped path={} reason=\"a catalog row references it\"", relative);
    return;
  }
  if (!row.ok() && !row.status().IsNotFound()) {
    spdlog::warn("event=hot_remove_skipped path={} reason=\"{}\"", relative, row.status().ToString());
    return;
  }
  Status s = hot_->Remove(relative);
  if (!s.ok()) spdlog::warn("event=hot_remove_failed path={} error=\"{}\"", relative, s.ToString());
}

Result<bool> Archive::SameDataset(const InstanceRecord& stored, const InstanceRecord& incoming) {
  if (stored.checksum == incoming.checksum) return true;
  if (!stored.dataset_checksum.empty()) return stored.dataset_checksum == incoming.dataset_checksum;
  // A row from before schema v2: compute it from the hot file; a cold one keeps the file
  // checksum as its only identity.
  if (stored.location.tier != Location::Tier::kHot) return false;
  auto scan = ScanPart10(env_, hot_->AbsolutePath(stored.location.hot_path));
  if (!scan.ok()) {
    if (scan.status().IsNotFound()) return false;  // packed meanwhile: compare by file
    if (scan.status().code() == Status::Code::kInvalidArgument) return false;
    return scan.status();
  }
  if (scan->file_checksum != stored.checksum) return false;  // not the bytes the row names
  return scan->dataset_checksum == incoming.dataset_checksum;
}

Result<StoreResult> Archive::StoreFile(const std::string& temp_path, const std::string& expected_sop_uid,
                                       const std::string& expected_sop_class, const std::string& who) {
  std::optional<RejectionNote> note;
  STRATA_ASSIGN_OR_RETURN(StoreResult res, StoreFileOnce(temp_path, expected_sop_uid, expected_sop_class, &note));
  if (note) {
    // The note is durable; a failure here fails the store, and the re-sent note (identical)
    // records the rejection again (RejectInstances keeps the first record of each SOP).
    LifecycleCause cause;
    cause.action = "reject";
    cause.who = who;
    cause.reason = note->reason_code + " " + RejectionReasonMeaning(note->reason_code) + " (note " +
                   note->note_sop_uid + ")";
    std::vector<LifecycleEvent> events;
    STRATA_ASSIGN_OR_RETURN(size_t hidden, catalog_->RejectInstances(note->rejected, cause, &events));
    // One line per study the note changed (a re-sent note changes none: one line without).
    if (events.empty())
      spdlog::info("event=reject note={} reason={} meaning=\"{}\" referenced={} hidden={} study={} changed=none",
                   note->note_sop_uid, note->reason_code, RejectionReasonMeaning(note->reason_code),
                   note->rejected.size(), hidden, note->rejected.front().study_uid);
    for (const auto& e : events)
      spdlog::info("event=reject note={} reason={} meaning=\"{}\" referenced={} hidden={} {}", note->note_sop_uid,
                   note->reason_code, RejectionReasonMeaning(note->reason_code), note->rejected.size(), hidden,
                   LifecycleLogFields(e));
  }
  return res;
}

Result<StoreResult> Archive::StoreFileOnce(const std::string& temp_path, const std::string& expected_sop_uid,
                                           const std::string& expected_sop_class,
                                           std::optional<RejectionNote>* note) {
  // Whatever happens, the temp file must not outlive this call unless it was moved.
  struct TempGuard {
    std::string path;
    ~TempGuard() {
      if (!path.empty()) (void)RemoveFile(path);  // a leftover temp file is cleaned at start-up
    }
  } guard{temp_path};

  StoreResult out;
  InstanceRecord& r = out.record;
  auto lap = [last = std::chrono::steady_clock::now()](int64_t* into) mutable {
    const auto now = std::chrono::steady_clock::now();
    *into = std::chrono::duration_cast<std::chrono::microseconds>(now - last).count();
    last = now;
  };
  DatasetScan scan;
  if (Status s = ScanInstanceFile(env_, temp_path, &scan, &r); !s.ok()) {
    spdlog::warn("event=store_refused sop={} reason=\"{}\"", r.sop_uid.empty() ? expected_sop_uid : r.sop_uid,
                 s.message());
    return s;
  }
  if (!expected_sop_uid.empty() && expected_sop_uid != r.sop_uid)
    return Status::InvalidArgument("SOPInstanceUID " + r.sop_uid + " in the data set differs from " +
                                   expected_sop_uid + " in the request");
  if (!expected_sop_class.empty() && expected_sop_class != r.sop_class_uid)
    return Status::InvalidArgument("SOPClassUID " + r.sop_class_uid + " in the data set differs from " +
                                   expected_sop_class + " in the request");
  // IOCM (PS3.4 KK): an instance a rejection note named is not taken back.
  if (auto rej = catalog_->GetRejection(r.sop_uid); rej.ok()) {
    spdlog::warn("event=store_refused sop={} reason=\"rejected {} by note {}\"", r.sop_uid, rej->reason_code,
                 rej->note_sop_uid);
    return Status::Conflict("instance rejected (" + rej->reason_code + "); re-send refused");
  } else if (!rej.status().IsNotFound()) {
    return rej.status();
  }
  if (r.sop_class_uid == kKeyObjectSelectionSopClass) {
    STRATA_ASSIGN_OR_RETURN(*note, ReadRejectionNote(temp_path));
  }
  // The file's mtime is when its last byte arrived; the rename keeps it, so rebuild-catalog
  // reads back the very value the row holds.
  auto mtime = env_->ModifiedMs(temp_path);
  r.received_ms = mtime.ok() ? mtime.value() : NowMs();

  // Fast path for re-sent data: nothing to write when the same data set is stored already.
  auto existing = catalog_->GetInstance(r.sop_uid);
  if (existing.ok()) {
    STRATA_ASSIGN_OR_RETURN(bool same, SameDataset(existing.value(), r));
    if (same) {
      out.outcome = StoreResult::Outcome::kIdentical;
      out.record = existing.value();
      return out;
    }
    if (existing->study_uid != r.study_uid || existing->series_uid != r.series_uid)
      return Status::Conflict("SOP Instance UID " + r.sop_uid + " is already stored in another study/series");
    if (options_.duplicates == DuplicatePolicy::kReject)
      return Status::Conflict("SOP Instance UID " + r.sop_uid + " is already stored with different content");
    if (options_.duplicates == DuplicatePolicy::kKeep) {
      out.outcome = StoreResult::Outcome::kDuplicateKept;
      out.warning = "SOP Instance UID " + r.sop_uid + " already stored with different content; kept the stored one";
      return out;
    }
  } else if (!existing.status().IsNotFound()) {
    return existing.status();
  }

  // A path of our own: no other store, concurrent or earlier, can reference it, so removing
  // it on any failure below never touches an acknowledged copy.
  r.location.tier = Location::Tier::kHot;
  r.location.hot_path = HotStore::NewRelativePath(r);
  // The data first (fdatasync of this file only; the receiver started its writeback while
  // the scan ran), then the name: the group commit syncs the directories before the row.
  lap(&out.timings.scan_us);
  if (Status s = env_->SyncFile(temp_path); !s.ok()) return s;
  lap(&out.timings.sync_us);
  STRATA_RETURN_IF_ERROR(hot_->Place(temp_path, r.location.hot_path));
  lap(&out.timings.place_us);
  guard.path.clear();
  auto added = committer_->Commit(r);
  lap(&out.timings.commit_us);
  if (!added.ok()) {
    if (added.status().code() == Status::Code::kUnknownOutcome) {
      // The commit may have landed: find out before deleting anything or answering.
      auto now = catalog_->GetInstance(r.sop_uid);
      if (!now.ok()) return added.status();  // keep the file; start-up reconciles it
      if (now->location.tier == Location::Tier::kHot && now->location.hot_path == r.location.hot_path) {
        out.outcome = StoreResult::Outcome::kStored;
        out.record = now.value();
        return out;
      }
    }
    RemoveHotFileUnlessReferenced(r);
    return added.status();
  }
  const AddResult& ar = added.value();
  switch (ar.outcome) {
    case AddOutcome::kAdded:
      out.outcome = StoreResult::Outcome::kStored;
      break;
    case AddOutcome::kIdentical:  // a concurrent store of the same data set won
      out.outcome = StoreResult::Outcome::kIdentical;
      RemoveHotFileUnlessReferenced(r);
      if (ar.previous) out.record = *ar.previous;
      break;
    case AddOutcome::kConflict:
      RemoveHotFileUnlessReferenced(r);
      if (options_.duplicates == DuplicatePolicy::kReject)
        return Status::Conflict("SOP Instance UID " + r.sop_uid + " is already stored with different content");
      out.outcome = StoreResult::Outcome::kDuplicateKept;
      out.warning = "SOP Instance UID " + r.sop_uid + " already stored with different content; kept the stored one";
      if (ar.previous) out.record = *ar.previous;
      break;
    case AddOutcome::kReplaced:
      out.outcome = StoreResult::Outcome::kReplaced;
      // The commit that stopped referencing the previous file is durable: now it may go.
      if (ar.previous && ar.previous->location.tier == Location::Tier::kHot &&
          ar.previous->location.hot_path != r.location.hot_path)
        RemoveHotFileUnlessReferenced(*ar.previous);  // the row now names our path
      spdlog::info("event=replace sop={} old_checksum={} new_checksum={}", r.sop_uid,
                   ar.previous ? ar.previous->checksum : "", r.checksum);
      break;
  }
  return out;
}

Result<std::vector<InstanceRecord>> Archive::Locate(const std::string& study_uid, const std::string& series_uid,
                                                    const std::string& sop_uid) {
  STRATA_ASSIGN_OR_RETURN(auto rows, catalog_->ListInstances(study_uid, series_uid, sop_uid));
  std::set<std::string> studies, rejected;
  for (const auto& r : rows) studies.insert(r.study_uid);
  for (const auto& st : studies) {
    STRATA_ASSIGN_OR_RETURN(auto sops, catalog_->RejectedInStudy(st));
    rejected.insert(sops.begin(), sops.end());
  }
  if (rejected.empty()) return rows;
  std::vector<InstanceRecord> out;
  for (auto& r : rows)
    if (!rejected.count(r.sop_uid)) out.push_back(std::move(r));
  return out;
}

Result<StoreResult> Archive::StoreBytes(std::string_view part10) {
  std::string temp = hot_->NewIncomingPath();
  STRATA_RETURN_IF_ERROR(WriteFileAtomic(env_, temp, part10));
  return StoreFile(temp);
}

Result<std::string> Archive::Read(const InstanceRecord& record) {
  const Location& loc = record.location;
  if (loc.tier == Location::Tier::kHot) {
    auto read = hot_->Read(loc.hot_path);
    if (!read.ok() && read.status().IsNotFound()) {
      // The converter may have packed it since RECORD was listed: ask the catalog again.
      auto now = catalog_->GetInstance(record.sop_uid);
      if (now.ok() && now->location.tier == Location::Tier::kCold) return Read(now.value());
    }
    STRATA_ASSIGN_OR_RETURN(std::string bytes, std::move(read));
    if (Xxh3Hex(bytes) != record.checksum)
      return Status::Corruption("hot file " + loc.hot_path + " does not match its checksum");
    return bytes;
  }
  auto got = cold_->GetRange(loc.pack_key, loc.offset, loc.length);
  if (!got.ok() && got.status().IsNotFound()) {
    // A consolidation may have retired that pack since RECORD was listed: ask the catalog again.
    auto now = catalog_->GetInstance(record.sop_uid);
    if (now.ok() && (now->location.tier != loc.tier || now->location.pack_key != loc.pack_key ||
                     now->location.offset != loc.offset))
      return Read(now.value());
  }
  const std::string& want = loc.entry_checksum.empty() ? record.checksum : loc.entry_checksum;
  Status bad = got.status();
  if (got.ok() && Xxh3Hex(got.value()) != want)
    bad = Status::Corruption("pack " + loc.pack_key + " entry " + record.series_uid + "/" + record.sop_uid +
                             ".dcm does not match its checksum");
  if (bad.ok()) return std::move(got).value();
  if (replica_ && (bad.code() == Status::Code::kCorruption || bad.IsNotFound())) {
    // The replica holds the same pack under the same key: same range, same checksum.
    auto copy = replica_->GetRange(loc.pack_key, loc.offset, loc.length);
    if (copy.ok() && Xxh3Hex(copy.value()) == want) {
      spdlog::warn("event=read_from_replica pack={} sop={} primary_error=\"{}\" note=\"the scrubber restores the "
                   "primary copy\"", loc.pack_key, record.sop_uid, bad.ToString());
      return std::move(copy).value();
    }
    spdlog::error("event=replica_read_failed pack={} sop={} error=\"{}\"", loc.pack_key, record.sop_uid,
                  copy.ok() ? "checksum mismatch" : copy.status().ToString());
  }
  return bad;
}

}  // namespace strata
