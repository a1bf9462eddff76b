// Catalog: the index of every instance, its query attributes and its location.
// One implementation, SqlCatalog (sql_catalog_internal.h), over a SqlDatabase driver:
// SqliteDatabase (embedded) or PgDatabase (PostgreSQL, several nodes); OpenCatalog picks by URL.
// All methods are thread-safe. Writes are transactional: a failed call changes nothing.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "index/tiering_ledger.h"
#include "model/records.h"
#include "util/status.h"

namespace strata {

// What happened to one instance handed to AddInstances.
enum class AddOutcome {
  kAdded,      // new row
  kIdentical,  // the same SOP Instance UID with the same checksum was already there
  kConflict,   // the same SOP Instance UID with other bytes is there; nothing changed
  kReplaced,   // conflict, and replace=true: the row now points at the new bytes
};

struct AddResult {
  AddOutcome outcome = AddOutcome::kAdded;
  // For kConflict/kReplaced/kIdentical: the row as it was before this call.
  std::optional<InstanceRecord> previous;
};

// --- lifecycle events (sql_lifecycle_events.cc, schema v10) ---------------------------------
// Why a lifecycle change happens: recorded with the change, in its own transaction.
struct LifecycleCause {
  std::string action = "delete";  // delete | retention | reject | rejected-expired (corrections: correct | merge)
  std::string who;                // identity and origin: "bearer:ris@10.0.0.5", "dimse:CT1@10.0.0.7",
                                  // "cli:root@host", "policy:lifecycle.retention@node-a"
  std::string reason;             // in words: "rule CT=3650d", "113001 Rejected for Quality Reasons"
};

// One lifecycle change as the catalog recorded it (table lifecycle_events): every node lists
// the same ones (GET /api/lifecycle). WHAT is named for people (patient, study date,
// description) as the study was just before the change; OLD_VALUES and NEW_VALUES are JSON
// objects, e.g. {"instances":24,"series":2} and {"instances":12,"series":1}.
struct LifecycleEvent {
  int64_t id = 0;
  int64_t at_ms = 0;  // the catalog's clock at the change
  std::string action, who, reason;
  std::string study_uid, series_uid, sop_uid;  // the scope asked for ('' = the whole study / series)
  std::string patient_id, patient_name, study_date, study_description, accession, modalities;
  int64_t instances = 0;  // instances the change touched (deleted, newly hidden, corrected)
  std::string old_values = "{}", new_values = "{}";
};

struct LifecycleEventPage {
  std::vector<LifecycleEvent> events;  // newest first
  uint64_t total = 0;                  // events recorded in all
};

// What Catalog::DeleteInstances removed.
struct DeletedInstances {
  std::vector<InstanceRecord> instances;   // the rows as they were (hot paths, pack locations)
  std::vector<std::string> emptied_packs;  // pack rows deleted: no instance references them any more
  std::vector<std::string> thinned_packs;  // packs left with entries no row references (to compact)
  LifecycleEvent event;                    // what was recorded in lifecycle_events, in the same transaction
};

// One instance an IOCM rejection note (a Key Object Selection Document, PS3.16 CID 7011)
// names: hidden from queries and retrievals, refused when sent again.
struct RejectionRecord {
  std::string sop_uid, series_uid, study_uid;
  std::string reason_code;   // 113001, 113037, 113038 or 113039
  std::string note_sop_uid;  // the KOS that rejected it
  int64_t rejected_ms = 0;   // the catalog's clock when the note arrived (set by the catalog)
};

// --- corrections (issue 15, sql_corrections.cc, schema v9) ---------------------------------
// One changed attribute of one study: the study's instances are served with NEW_VALUE in place
// of what they carry, and an Original Attributes Sequence item holding the value they had.
// The rows of one request share CHANGE_ID (one sequence item per change).
struct CorrectionRecord {
  std::string study_uid;
  int64_t change_id = 0;
  uint32_t tag = 0;           // (group << 16) | element, one of the correctable attributes
  std::string old_value;      // the catalog's value before the change
  std::string new_value;
  std::string who, reason;    // reason: free text of the operator ("" = none)
  std::string kind;           // "correct" or "merge"
  int64_t at_ms = 0;          // when it was made (the requesting archive's clock, or the catalog's)
};

// --- replica backup queue (issue 16) ------------------------------------------------------
// One row per pack to copy to the replica store (tiering/replicator.h).
struct ReplicaTask {
  std::string pack_key;
  std::string study_uid;
  uint64_t size = 0;
  std::string checksum;      // the pack row's manifest XXH3, which the replica's copy must carry
  std::string state;         // "pending" or "replicated"
  int64_t attempts = 0;
  int64_t next_attempt_ms = 0;  // database clock
  std::string last_error;
  int64_t queued_ms = 0, replicated_ms = 0;
};

struct ReplicaQueueStats {
  uint64_t pending = 0, replicated = 0, failing = 0;  // failing: pending with attempts > 0
  uint64_t pending_bytes = 0, replicated_bytes = 0;
  uint64_t studies = 0, studies_replicated = 0;       // a study counts once all its packs are
  std::string last_error;                              // of the most recently failed task
};


// The catalog is also the tiering ledger (index/tiering_ledger.h): migration claims, packs
// and their switch, in the same database as the rows they move.
class Catalog : public TieringLedger {
 public:
  ~Catalog() override = default;

  // Adds instances in ONE transaction (group commit). Each record must have valid UIDs.
  // REPLACE decides what a different-bytes duplicate does (see AddOutcome).
  virtual Result<std::vector<AddResult>> AddInstances(const std::vector<InstanceRecord>& records,
                                                      bool replace) = 0;
  virtual Result<InstanceRecord> GetInstance(const std::string& sop_uid) = 0;
  // Instances of a study / series / single instance (empty strings = not restricted),
  // ordered by series then instance number.
  virtual Result<std::vector<InstanceRecord>> ListInstances(const std::string& study_uid,
                                                            const std::string& series_uid,
                                                            const std::string& sop_uid) = 0;
  // C-FIND / QIDO-RS. Returns, per match, every indexed attribute of the query level and
  // the levels above it (callers pick what to return); computed attributes included.
  virtual Result<std::vector<AttributeValues>> Find(const Query& query) = 0;
  // How many matches Find would return for QUERY without its limit and offset (a pager's
  // total). The default runs Find; SQL catalogs count in the database.
  virtual Result<uint64_t> Count(const Query& query);
  virtual Result<CatalogStats> Stats() = 0;

  // --- lifecycle (sql_lifecycle.cc) ------------------------------------------------------
  // Deletes the instances of a study, of one of its series (SERIES_UID) or one instance
  // (SOP_UID; SERIES_UID may then be empty) in ONE transaction: the instance rows, the
  // series/study/patient rows left empty, the counters of the rest, and the rows of the
  // study's packs no instance references any more. Each deleted SOP Instance UID gets a
  // tombstone (IsDeleted), so that a hot file the caller has not removed yet is never
  // re-indexed. kNotFound if nothing matches. The hot files and pack objects are the caller's
  // to delete, and only after this returned OK (kUnknownOutcome: the rows may still exist).
  // The change is recorded in lifecycle_events in the same transaction (CAUSE: who and why;
  // DeletedInstances::event holds the record).
  virtual Result<DeletedInstances> DeleteInstances(const std::string& study_uid, const std::string& series_uid,
                                                   const std::string& sop_uid, const LifecycleCause& cause = {}) = 0;
  // Deletes the instances SOP_UIDS of STUDY_UID (those that have a row; duplicates ignored) in
  // ONE transaction, exactly as DeleteInstances does, and records ONE lifecycle event for them
  // all: instances = how many went, series_uid the only series they were in ('' when several),
  // sop_uid the only instance ('' when several), old_values listing their series
  // ("series_uids": [...]). The grace-period deletion of rejected instances uses it, so a
  // pass records one event per study, as a series delete does. kNotFound if none has a row;
  // kInvalidArgument for an empty list or a bad UID.
  virtual Result<DeletedInstances> DeleteInstanceList(const std::string& study_uid,
                                                      const std::vector<std::string>& sop_uids,
                                                      const LifecycleCause& cause = {}) = 0;
  // Whether SOP_UID was deleted (a tombstone exists). A re-stored instance has a row again;
  // callers check the row first.
  virtual Result<bool> IsDeleted(const std::string& sop_uid) = 0;
  // Studies holding a pack with entries that no instance references (deleted, or replaced
  // while being packed) and no live claim, oldest pack first: the converter compacts them.
  virtual Result<std::vector<std::string>> StudiesToCompact(size_t limit) = 0;

  // --- schema v6 backfill (sql_qido_schema.cc) -------------------------------------------
  // Instances catalogued before schema v6 (no header JSON yet), oldest first.
  virtual Result<std::vector<InstanceRecord>> ListInstancesWithoutHeader(size_t limit) = 0;
  // Sets the v6 attributes (bits_allocated, timezone_offset, pps_start_date/time,
  // request_attributes, header_json) of each record's SOP instance, and of its series and
  // study where those are still empty, in ONE transaction. Rows that are gone are skipped.
  virtual Status UpdateHeaderAttributes(const std::vector<InstanceRecord>& records) = 0;
  // --- rejection (sql_lifecycle_rejection.cc) ----------------------------------------------
  // Records REJECTED in ONE transaction (a SOP already rejected keeps its first record) and
  // takes the instances present out of their series' and study's counters, so queries stop
  // counting them; their rows, files and pack entries stay (the grace period) until deleted
  // through DeleteInstances. Returns how many present instances were newly hidden.
  // One lifecycle event per study with newly hidden instances is recorded in the same
  // transaction (CAUSE: who sent the note; action "reject"), and appended to EVENTS if given.
  virtual Result<size_t> RejectInstances(const std::vector<RejectionRecord>& rejected, const LifecycleCause& cause = {},
                                         std::vector<LifecycleEvent>* events = nullptr) = 0;
  // The rejection of SOP_UID, or kNotFound.
  virtual Result<RejectionRecord> GetRejection(const std::string& sop_uid) = 0;
  // SOP Instance UIDs of STUDY_UID that are rejected.
  virtual Result<std::vector<std::string>> RejectedInStudy(const std::string& study_uid) = 0;
  // Rejected instances that still have a row and were rejected before BEFORE_MS (the
  // catalog's clock), oldest first: what the grace-period policy deletes.
  virtual Result<std::vector<RejectionRecord>> RejectedBefore(int64_t before_ms, size_t limit) = 0;
  // --- corrections (sql_corrections.cc, schema v9) ----------------------------------------
  // Sets the patient/study attributes CHANGES (tag -> new value; the caller validated them
  // against archive/correction.h's table) of STUDY_UID in ONE transaction with their
  // correction records, so every node's queries answer with the new values at once:
  // study attributes on the study row; PatientID/IssuerOfPatientID move the study to that
  // patient's row (created when missing; the old row deleted when left empty);
  // PatientName/BirthDate/Sex change the patient row, and so every study of that patient
  // (each gets records). Unchanged values are skipped. Returns the records written, every
  // study concerned (empty: nothing differed). kNotFound: no such study. AT_MS stamps the
  // records (0: the catalog's clock); the archive passes the time of its durable record of the
  // change (archive/correction_log.h), so that a rebuilt catalog stamps them the same.
  virtual Result<std::vector<CorrectionRecord>> CorrectStudy(const std::string& study_uid,
                                                             const std::vector<std::pair<uint32_t, std::string>>& changes,
                                                             const std::string& who, const std::string& reason,
                                                             int64_t at_ms = 0) = 0;
  // Merges patient FROM (PatientID, IssuerOfPatientID) into patient TO in ONE transaction:
  // every study of FROM moves to TO's row and gets records for the patient attributes that
  // differ; FROM's row is deleted. kNotFound if either patient is missing; kInvalidArgument if
  // they are the same. Returns the records written. AT_MS as for CorrectStudy.
  virtual Result<std::vector<CorrectionRecord>> MergePatients(const std::string& from_id, const std::string& from_issuer,
                                                              const std::string& to_id, const std::string& to_issuer,
                                                              const std::string& who, const std::string& reason,
                                                              int64_t at_ms = 0) = 0;
  // The corrections of STUDY_UID's current row (a study deleted and sent again starts
  // clean), oldest first.
  virtual Result<std::vector<CorrectionRecord>> ListCorrections(const std::string& study_uid) = 0;

  // --- lifecycle events (sql_lifecycle_events.cc, schema v10) -------------------------------
  // The recorded lifecycle changes, newest first: LIMIT (1..1000) from OFFSET, and the total.
  // Deletes, rejections and retention record theirs inside their own transactions; another
  // source (corrections, merges) records through the same table (InsertLifecycleEvent in
  // sql_catalog_internal.h), so this one list shows them all.
  virtual Result<LifecycleEventPage> ListLifecycleEvents(size_t limit, size_t offset) = 0;
  // --- replica backup queue (sql_replica_queue.cc, schema v8) ------------------------------
  // Queues every pack row that has no queue row yet (a pack row exists only once its pack was
  // verified and switched to); returns how many were queued. Queue rows whose pack row is
  // gone (compacted, consolidated or deleted) are removed once their study has no pack still
  // pending, and their keys returned in GONE, so the caller can delete the replica's copy.
  virtual Result<uint64_t> QueueUnreplicatedPacks(std::vector<std::string>* gone) = 0;
  // Pending tasks due now (database clock), oldest first, at most LIMIT.
  virtual Result<std::vector<ReplicaTask>> ReplicaTasksDue(size_t limit) = 0;
  // Marks PACK_KEY replicated (ERROR empty), or records ERROR and the next attempt
  // RETRY_IN_MS from now. kNotFound if the task is gone.
  virtual Status FinishReplicaTask(const std::string& pack_key, const std::string& error, int64_t retry_in_ms) = 0;
  virtual Result<ReplicaQueueStats> GetReplicaQueueStats() = 0;
  // The tasks of one study (or all, STUDY_UID empty; at most LIMIT, 0 = all), by pack key.
  virtual Result<std::vector<ReplicaTask>> ListReplicaTasks(const std::string& study_uid, size_t limit) = 0;
};

// How person names (PatientName, ReferringPhysicianName) match in Find (config key
// query.pn_match). kExact: the decoded text literally, ASCII letters of either case alike
// (PS3.4 C.2.2.2.1 leaves PN case to the archive; Strata always matched names so).
// kInsensitive: case and accents too ("muller" finds "Müller"; util/utf8.h FoldForMatching).
enum class PnMatch { kExact, kInsensitive };
// "exact" / "insensitive"; InvalidArgument otherwise.
Result<PnMatch> ParsePnMatch(const std::string& name);

struct CatalogOptions {
  std::string url;  // "sqlite:/path/to/catalog.db" or "postgresql://..."
  PnMatch pn_match = PnMatch::kExact;  // config query.pn_match
};

// Opens the catalog named by OPTIONS.url (creating/migrating the schema).
Result<std::unique_ptr<Catalog>> OpenCatalog(const CatalogOptions& options);

}  // namespace strata
