// Archive: the one door to stored images. Network services (DIMSE, DICOMweb), the CLI and
// the converter all go through it: Store, Find, Locate, Read. It hides which tier holds an
// instance; a read from a pack is one ranged read of the cold store, verified by checksum.
#pragma once

#include <functional>
#include <set>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "archive/rejection.h"
#include "cold/cold_store.h"
#include "hot/hot_store.h"
#include "index/catalog.h"
#include "util/env.h"
#include "util/status.h"

namespace strata {

class GroupCommitter;

// What to do when an instance arrives whose SOP Instance UID is stored with other bytes.
enum class DuplicatePolicy {
  kKeep,     // keep the stored instance; the sender gets a warning (default)
  kReplace,  // the new bytes replace the stored ones
  kReject,   // the sender gets a failure
};
Result<DuplicatePolicy> ParseDuplicatePolicy(const std::string& s);

struct ArchiveOptions {
  std::string hot_dir;
  std::string node_id = "local";  // names this node's incoming directory on a shared hot tier
  CatalogOptions catalog;
  ColdStoreOptions cold;
  // The second cold store packs are replicated to (tiering/replicator.h); url empty = none.
  // A cold read whose entry is missing or corrupt in `cold` is served from it (Read).
  ColdStoreOptions replica;
  DuplicatePolicy duplicates = DuplicatePolicy::kKeep;
  int read_ahead = 8;  // ranged reads in flight while streaming a cold study
  // Adjacent entries of one pack that one ranged read may cover while streaming a study
  // (archive/read_run.h); 0 = one read per entry.
  uint64_t read_run_bytes = 2 << 20;
  HotStoreOptions hot;  // this process's identity on the hot tier (tests inject one)
  int64_t hot_reconcile_grace_ms = 3600 * 1000;  // see ReconcileHot
};

// Parts an Archive uses instead of opening them from its options (tests inject fakes and
// fault-injecting ones). Ownership: ENV is borrowed and must outlive the Archive (null =
// Env::Default()); CATALOG and COLD are taken over (null = opened from the options).
struct ArchiveDeps {
  Env* env = nullptr;
  std::unique_ptr<Catalog> catalog;
  std::unique_ptr<ColdStore> cold;
  std::unique_ptr<ColdStore> replica;  // else opened from ArchiveOptions::replica when set
};

// What ReconcileHot did.
struct ReconcileReport {
  uint64_t files = 0;            // .dcm files looked at
  uint64_t referenced = 0;       // a catalog row points at them
  uint64_t young = 0;            // unreferenced but within the grace period: left alone
  uint64_t reindexed = 0;        // complete, no row for their SOP Instance UID: catalogued
  uint64_t removed = 0;          // unreferenced .dcm files removed
  uint64_t temp_removed = 0;     // orphan .tmp-* files removed
  uint64_t dirs_removed = 0;     // empty directories removed
  std::vector<std::string> unknown;  // unreferenced files (relative paths), acted on or not
};

// What Archive::Delete did.
struct DeleteReport {
  std::vector<InstanceRecord> deleted;         // the rows as they were
  uint64_t hot_files_removed = 0;              // hot files (and hot trails of packed rows)
  std::vector<std::string> packs_deleted;      // objects whose every entry is gone
  std::vector<std::string> packs_to_compact;   // packs left with dead entries (the converter rewrites them)
};

// Where the time of one StoreFile went, in microseconds (steady clock), so that the
// association's log line can say it per phase (issue 13: "where each millisecond goes").
struct StoreTimings {
  int64_t scan_us = 0;    // DatasetScan, the attributes, the rejection and duplicate lookups
  int64_t sync_us = 0;    // fdatasync of the received file
  int64_t place_us = 0;   // the rename into the layout
  int64_t commit_us = 0;  // waiting for the group commit: directory fsyncs and the catalog transaction
};

struct StoreResult {
  enum class Outcome { kStored, kIdentical, kDuplicateKept, kReplaced };
  Outcome outcome = Outcome::kStored;
  InstanceRecord record;
  std::string warning;  // set for kDuplicateKept
  StoreTimings timings;
};

class Archive {
 public:
  static Result<std::unique_ptr<Archive>> Open(const ArchiveOptions& options, ArchiveDeps deps = {});
  ~Archive();

  // A temp path on the hot tier's filesystem where a caller may write incoming data before
  // handing it to StoreFile (so that storing is a rename, not a copy).
  std::string NewIncomingPath() { return hot_->NewIncomingPath(); }
  // Stores the Part 10 file at TEMP_PATH, which the archive takes over (moved or deleted,
  // whatever the outcome). When EXPECTED_SOP_UID is given, the file must carry it. Returns
  // once the instance is durable in the hot tier and the catalog.
  // WHO (e.g. "dimse:CT1@10.0.0.7", "bearer:ris@10.0.0.5") is recorded with a rejection.
  Result<StoreResult> StoreFile(const std::string& temp_path, const std::string& expected_sop_uid = "",
                                const std::string& expected_sop_class = "", const std::string& who = "");
  // A rejected instance (IOCM) is refused with kConflict ("... rejected ...: re-send
  // refused"); a rejection note is stored, then the instances it references are rejected
  // (the note is acknowledged only once both are durable).
  Result<StoreResult> StoreBytes(std::string_view part10);

  // Reconciles the hot tier with the catalog: a .dcm file in the layout that no row
  // references and whose mtime is older than GRACE_MS (a live store renames first and commits
  // a moment later, on this or another node) is re-indexed when it is complete and the
  // catalog has no row for its SOP Instance UID, else removed; orphan .tmp-* files past the
  // grace and empty directories are removed too. One log line per file acted on. With
  // DRY_RUN nothing is changed (for `strata verify --hot`): REPORT lists what is unknown.
  // STOP, when set, is polled between files; true ends the pass early (server shutdown).
  [[nodiscard]] Status ReconcileHot(int64_t grace_ms, ReconcileReport* report, bool dry_run = false,
                                    const std::function<bool()>& stop = {});

  // Fills the schema v6 attributes of rows catalogued before v6 from their stored bytes
  // (header_backfill.cc); returns how many rows it filled. Unreadable instances are logged
  // and left for the next run. STOP, when set, is polled between batches.
  Result<uint64_t> BackfillHeaders(const std::function<bool()>& stop = {});

  // Deletes a study, one of its series, or one instance (SOP_UID; SERIES_UID may be empty).
  // Rows first: Catalog::DeleteInstances (one transaction, tombstones), so every node stops
  // seeing them at once; then the hot files those rows named (unless a row names the path
  // again); then the pack objects no row references and no unfinished claim may switch to.
  // A crash after the commit leaves tombstoned files the reconciler removes and objects the
  // janitor removes; a pack that keeps survivors is rewritten by the converter's compaction.
  // kNotFound if nothing matched. WHO (user, AE, "cli") goes into the one log line.
  // The change is recorded in the catalog's lifecycle events (Catalog::ListLifecycleEvents)
  // in the delete's own transaction, with CAUSE (who, action, reason).
  Result<DeleteReport> Delete(const std::string& study_uid, const std::string& series_uid,
                              const std::string& sop_uid, const std::string& who);
  Result<DeleteReport> Delete(const std::string& study_uid, const std::string& series_uid,
                              const std::string& sop_uid, const LifecycleCause& cause);

  Result<std::vector<AttributeValues>> Find(const Query& query) { return catalog_->Find(query); }
  // The number of matches of QUERY without its limit/offset (Catalog::Count).
  Result<uint64_t> Count(const Query& query) { return catalog_->Count(query); }
  // Instances of a study/series/instance, in series and instance-number order.
  // Instances rejected by an IOCM note (archive/rejection.h) are left out: retrievals never
  // see them (the converter and the checks list the catalog itself).
  Result<std::vector<InstanceRecord>> Locate(const std::string& study_uid, const std::string& series_uid = "",
                                             const std::string& sop_uid = "");

  // Deletes the instances rejected more than GRACE_MS ago (the catalog's clock), at most LIMIT
  // of them per call, as Delete does (tombstone, rows, files, objects), one study at a time:
  // each study's are ONE Catalog::DeleteInstanceList, so one lifecycle event per study and
  // call (action "rejected-expired"). Returns how many were deleted.
  Result<size_t> DeleteRejected(int64_t grace_ms, size_t limit, const std::string& who);
  // The Part 10 bytes of one instance, verified against the catalog's checksum. A hot record
  // whose file was packed meanwhile is read from its pack. A pack entry missing or corrupt in
  // the cold store is read from the replica (when configured) at once, verified the same way.
  Result<std::string> Read(const InstanceRecord& record);
  // Read for RUN: consecutive entries of one pack (same pack_key, ascending offsets, as
  // CoalesceRun groups them), fetched with ONE ranged read of the cold store from the first
  // entry's start to the last one's end, then each entry verified as Read verifies it. An
  // entry whose bytes fail (or the whole range failing) falls back to Read for that entry, so
  // moves, retired packs and the replica are handled the same way. One result per record.
  std::vector<Result<std::string>> ReadRun(std::span<const InstanceRecord> run);

  // --- corrections (correction.cc) ---
  // Changes patient/study attributes of STUDY_UID: CHANGES are keyword (or ggggeeee) -> new
  // value, validated (archive/correction.h; kInvalidArgument naming the attribute), recorded
  // durably in the cold store (archive/correction_log.h: a refused change's record removed
  // again; a record that cannot be written refuses the change), then
  // written with their records in one catalog transaction (Catalog::CorrectStudy), so every
  // node's queries answer with the new values at once; one log line per changed attribute
  // (event=correct, who, old and new values). kNotFound: no such study. Returns the records
  // (every study concerned: a patient's demographics reach all its studies).
  Result<std::vector<CorrectionRecord>> Correct(const std::string& study_uid,
                                                const std::vector<std::pair<std::string, std::string>>& changes,
                                                const std::string& who, const std::string& reason);
  // Merges patient FROM into patient TO (Catalog::MergePatients); one log line per record
  // (event=merge) and one for the merge.
  Result<std::vector<CorrectionRecord>> MergePatients(const std::string& from_id, const std::string& from_issuer,
                                                      const std::string& to_id, const std::string& to_issuer,
                                                      const std::string& who, const std::string& reason);
  // What every retrieval serves (C-GET, C-MOVE, WADO-RS, WADO-URI, `strata get`): Read's
  // verified stored bytes, patched from the study's correction records (correction_patch.h)
  // when it has any. The stored bytes are never changed. The second form takes the records
  // the caller listed once for the study (PrefetchReader).
  Result<std::string> ReadServed(const InstanceRecord& record);
  Result<std::string> ReadServed(const InstanceRecord& record, const std::vector<CorrectionRecord>& corrections);
  // ReadServed for a run of one pack's entries (ReadRun), all of one study.
  std::vector<Result<std::string>> ReadServedRun(std::span<const InstanceRecord> run,
                                                 const std::vector<CorrectionRecord>& corrections);
  // Modifying System (0400,0563) of the Original Attributes Sequence items served.
  std::string ModifyingSystem() const;

  // ---- What the network services need besides Store/Find/Locate/Read (archive_views.cc), so
  // that src/net reaches storage and catalog only through this door.

  // Up to N bytes from the start of RECORD's stored bytes (the hot file or the pack entry),
  // for reading a header without its pixel data; *TOTAL gets the stored size. What
  // "verified" means for a prefix (a checksum covers the whole object, so a prefix alone
  // cannot be checked against it):
  //   - when the prefix is the whole object (N >= size), it is checked against the catalog's
  //     checksum exactly as Read does (replica fallback included);
  //   - otherwise the prefix is checked to be the start of THIS instance as catalogued: the
  //     stored object has the catalogued size (hot file size == record.size; the pack range
  //     lies inside the catalogued entry), it starts with the Part 10 preamble, and its file
  //     meta information names the record's SOP Instance UID. A missing or wrong file, a
  //     stale offset, a truncated or replaced file is refused (kCorruption / kNotFound), and a
  //     cold prefix that fails these checks is read from the replica when one is configured.
  //     A flipped bit inside a header that still has the right identity and size is not
  //     detected per request: it is caught by the scrubber (`strata verify`, every pack entry
  //     and hot file against its checksum) and by every full Read (WADO-RS of the instance,
  //     C-GET/C-MOVE, storage commitment).
  Result<std::string> ReadHeaderPrefix(const InstanceRecord& record, uint64_t n, uint64_t* total);
  // The catalog's row of SOP_UID now (kNotFound when none; rejected instances included).
  Result<InstanceRecord> GetInstance(const std::string& sop_uid);
  Result<CatalogStats> Stats();
  Result<ReplicaQueueStats> GetReplicaQueueStats();
  // The converter's ledger, newest first, and the packs of a study (the page's archive views).
  Result<std::vector<MigrationRecord>> ListMigrations(size_t limit);
  Result<std::vector<PackRecord>> ListPacks(const std::string& study_uid);
  Result<std::vector<StudySummary>> StudiesToMigrate(const MigrationPolicy& policy, int64_t now_ms);
  // A study's correction records (oldest first) and the lifecycle changes every node shares
  // (newest first): the page's and the corrections API's views.
  Result<std::vector<CorrectionRecord>> ListCorrections(const std::string& study_uid);
  Result<LifecycleEventPage> ListLifecycleEvents(size_t limit, size_t offset);
  // The cold store (and replica) as the start log line names it ("" for a replica not set).
  std::string DescribeCold() const;
  std::string DescribeReplica() const;

  Catalog* catalog() { return catalog_.get(); }
  HotStore* hot() { return hot_.get(); }
  ColdStore* cold() { return cold_.get(); }
  ColdStore* replica() { return replica_.get(); }  // null when none is configured
  Env* env() { return env_; }
  const ArchiveOptions& options() const { return options_; }

 private:
  explicit Archive(ArchiveOptions options);
  Result<StoreResult> StoreFileOnce(const std::string& temp_path, const std::string& expected_sop_uid,
                                    const std::string& expected_sop_class, std::optional<RejectionNote>* note);
  // Whether STORED (a catalog row) holds the data set INCOMING carries.
  Result<bool> SameDataset(const InstanceRecord& stored, const InstanceRecord& incoming);
  // Delete of the instances SOP_UIDS of STUDY_UID (Catalog::DeleteInstanceList).
  Result<DeleteReport> DeleteList(const std::string& study_uid, const std::vector<std::string>& sop_uids,
                                  const LifecycleCause& cause);
  // The steps of every delete: the tombstone of ROWS (the rows about to go), DELETE_ROWS (the
  // catalog's one transaction), then the hot files and the pack objects no row references.
  Result<DeleteReport> DeleteRows(const std::string& study_uid, std::vector<InstanceRecord> rows,
                                  const std::function<Result<DeletedInstances>()>& delete_rows);
  // Unlinks R's hot path unless a catalog row references it (or the catalog cannot say).
  void RemoveHotFileUnlessReferenced(const InstanceRecord& r);
  ArchiveOptions options_;
  Env* env_ = nullptr;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<HotStore> hot_;
  std::unique_ptr<ColdStore> cold_;
  std::unique_ptr<ColdStore> replica_;
  std::unique_ptr<GroupCommitter> committer_;
};

}  // namespace strata
