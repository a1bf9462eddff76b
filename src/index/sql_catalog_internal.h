// The SqlCatalog class, shared by the files that implement it (sql_catalog.cc: schema and
// instance rows; sql_tiering_ledger.cc: migrations and packs). Internal to src/index: other
// modules use OpenSqlCatalog (sql_catalog.h) and the Catalog interface.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "index/catalog.h"
#include "index/sql_database.h"

namespace strata {

inline constexpr const char* kInstanceCols =
    "p.patient_id, p.issuer, p.patient_name, p.birth_date, p.sex, "
    "st.study_uid, st.study_date, st.study_time, st.accession, st.study_id, st.description, st.referring, "
    "se.series_uid, se.modality, se.description, se.body_part, se.series_date, se.series_time, se.series_number, "
    "i.sop_uid, i.sop_class, i.transfer_syntax, i.instance_number, i.rows, i.columns, i.frames, i.size, "
    "i.checksum, i.received_ms, i.tier, i.hot_path, i.pack_key, i.pack_offset, i.pack_length, "
    "i.entry_checksum, i.entry_syntax, i.dataset_checksum, "
    "st.timezone_offset, se.pps_start_date, se.pps_start_time, se.request_attributes, i.bits_allocated, "
    "i.header_json, i.pk";
inline constexpr const char* kInstanceFrom =
    " FROM instances i JOIN series se ON se.pk = i.series_pk JOIN studies st ON st.pk = i.study_pk"
    " JOIN patients p ON p.pk = st.patient_pk";

InstanceRecord RowToInstance(const SqlRow& r);
// Schema step v4 (sql_lifecycle.cc): the tombstones of deleted instances.
const char* LifecycleSchemaV4();
// Sets study STUDY_PK's modalities (ModalitiesInStudy) and num_series from its series that
// still count (num_instances > 0: neither deleted nor wholly rejected), inside the caller's
// transaction (sql_lifecycle.cc; deletes and rejections call it after changing counters).
Status RecountStudySeries(SqlConnection& c, int64_t study_pk);
// Schema step v5 (sql_catalog.cc): the folded name columns of query.pn_match = insensitive.
const char* CharsetSchemaV5();
Status CharsetSchemaV5Backfill(SqlConnection& conn);
// Schema step v6 (sql_qido_schema.cc): the QIDO-RS default attributes the catalog lacked
// (PS3.18 Tables 10.6.3-3/-4/-5) and each instance's header as DICOM JSON.
const char* QidoSchemaV6();
// Schema step v7 (sql_lifecycle_rejection.cc): IOCM rejections.
const char* LifecycleSchemaV7();
// Schema step v8 (sql_replica_queue.cc): the replica backup queue.
const char* ReplicaSchemaV8();
// Schema step v9 (sql_corrections.cc): the correction records.
const char* CorrectionsSchemaV9();
std::vector<SqlValue> LocationParams(const Location& l);
// Schema step v10 (sql_lifecycle_events.cc): the lifecycle events every node lists.
const char* LifecycleEventsSchemaV10();

// A study as it is at this point of a transaction: its label and counters (what a lifecycle
// event names). FOUND is false when the catalog has no such study (a rejection note naming
// a study not stored).
struct StudyState {
  bool found = false;
  std::string patient_id, patient_name, study_date, description, accession, modalities;
  int64_t instances = 0, series = 0;
};
Result<StudyState> ReadStudyState(SqlConnection& c, const std::string& study_uid);
// Records E (its id and at_ms are ignored) in lifecycle_events on C, inside the caller's
// transaction; NOW_SQL is the database clock (SqlCatalog::DbNow()). Sets E's id and at_ms.
Status InsertLifecycleEvent(SqlConnection& c, const std::string& now_sql, LifecycleEvent* e);
// Names E's study for people (patient, date, description, accession, modalities) from S.
void NameStudy(const StudyState& s, LifecycleEvent* e);
// {"instances":N,"series":M,"modalities":"CT\\MR"} of a study state, EXTRA keys appended
// (values given as JSON text; text that is not JSON is taken as a string).
std::string StudyStateJson(const StudyState& s, const std::vector<std::pair<std::string, std::string>>& extra = {});

class SqlCatalog : public Catalog {
 public:
  SqlCatalog(std::unique_ptr<SqlDatabase> db, PnMatch pn_match) : db_(std::move(db)), pn_match_(pn_match) {}
  Status Init();
  Result<std::vector<AddResult>> AddInstances(const std::vector<InstanceRecord>& records, bool replace) override;
  Result<InstanceRecord> GetInstance(const std::string& sop_uid) override;
  Result<std::vector<InstanceRecord>> ListInstances(const std::string& study_uid, const std::string& series_uid,
                                                    const std::string& sop_uid) override;
  Result<std::vector<AttributeValues>> Find(const Query& query) override;
  Result<uint64_t> Count(const Query& query) override;
  Result<CatalogStats> Stats() override;

  // --- tiering ledger (migrations and packs tables): sql_tiering_ledger.cc ---
  // The database's clock in unix milliseconds, as SQL: the one clock every lease is judged by.
  const char* DbNow() const;
  Result<std::vector<StudySummary>> StudiesToMigrate(const MigrationPolicy& policy, int64_t /*now_ms*/) override;
  Result<int64_t> ClaimMigration(const std::string& study_uid, const std::string& node, const std::string& pack_key,
                                 int64_t lease_ms) override;
  Status RenewMigration(const std::string& study_uid, int64_t token, const std::string& state,
                        int64_t lease_ms) override;
  Status FinishMigration(const std::string& study_uid, int64_t token, const std::string& state,
                         const std::string& error, int64_t seen_lease_until_ms) override;
  static MigrationRecord RowToMigration(const SqlRow& r, size_t c);
  Result<std::vector<MigrationRecord>> ListMigrations(size_t limit) override;
  Result<LedgerSnapshot> ReadLedgerSnapshot() override;
  Result<std::vector<bool>> SwitchToPack(const PackRecord& pack, const MigrationFence& fence,
                                         const std::vector<std::string>& sop_uids,
                                         const std::vector<Location>& expected,
                                         const std::vector<Location>& locations,
                                         const std::vector<std::string>& retire) override;
  Result<std::vector<InstanceRecord>> ListLeftoverHotFiles(size_t limit) override;
  Status ClearHotPaths(const std::vector<std::string>& sop_uids) override;
  Result<std::vector<PackRecord>> ListPacks(const std::string& study_uid) override;
  Status DeletePackRecord(const std::string& pack_key) override;
  Status RestorePackRecord(const PackRecord& pack) override;
  Result<uint64_t> CountPackReferences(const std::string& pack_key) override;

  // --- lifecycle (deletes and tombstones): sql_lifecycle.cc ---
  Result<DeletedInstances> DeleteInstances(const std::string& study_uid, const std::string& series_uid,
                                           const std::string& sop_uid, const LifecycleCause& cause) override;
  Result<DeletedInstances> DeleteInstanceList(const std::string& study_uid, const std::vector<std::string>& sop_uids,
                                              const LifecycleCause& cause) override;
  Result<bool> IsDeleted(const std::string& sop_uid) override;
  Result<std::vector<std::string>> StudiesToCompact(size_t limit) override;

  // --- QIDO-RS attributes of schema v6: sql_qido_schema.cc ---
  Result<std::vector<InstanceRecord>> ListInstancesWithoutHeader(size_t limit) override;
  Status UpdateHeaderAttributes(const std::vector<InstanceRecord>& records) override;
  // --- rejection (IOCM): sql_lifecycle_rejection.cc ---
  Result<size_t> RejectInstances(const std::vector<RejectionRecord>& rejected, const LifecycleCause& cause,
                                 std::vector<LifecycleEvent>* events) override;
  Result<RejectionRecord> GetRejection(const std::string& sop_uid) override;
  Result<std::vector<std::string>> RejectedInStudy(const std::string& study_uid) override;
  Result<std::vector<RejectionRecord>> RejectedBefore(int64_t before_ms, size_t limit) override;
  // --- corrections: sql_corrections.cc ---
  Result<std::vector<CorrectionRecord>> CorrectStudy(const std::string& study_uid,
                                                     const std::vector<std::pair<uint32_t, std::string>>& changes,
                                                     const std::string& who, const std::string& reason,
                                                     int64_t at_ms) override;
  Result<std::vector<CorrectionRecord>> MergePatients(const std::string& from_id, const std::string& from_issuer,
                                                      const std::string& to_id, const std::string& to_issuer,
                                                      const std::string& who, const std::string& reason,
                                                      int64_t at_ms) override;
  Result<std::vector<CorrectionRecord>> ListCorrections(const std::string& study_uid) override;
  // --- lifecycle events: sql_lifecycle_events.cc ---
  Result<LifecycleEventPage> ListLifecycleEvents(size_t limit, size_t offset) override;
  // --- replica backup queue: sql_replica_queue.cc ---
  Result<uint64_t> QueueUnreplicatedPacks(std::vector<std::string>* gone) override;
  Result<std::vector<ReplicaTask>> ReplicaTasksDue(size_t limit) override;
  Status FinishReplicaTask(const std::string& pack_key, const std::string& error, int64_t retry_in_ms) override;
  Result<ReplicaQueueStats> GetReplicaQueueStats() override;
  Result<std::vector<ReplicaTask>> ListReplicaTasks(const std::string& study_uid, size_t limit) override;

 private:
  // One delete transaction, run again when a concurrent writer won a key. SOP_UIDS empty: the
  // whole study or series; LIST: called by DeleteInstanceList (its event lists the series).
  Result<DeletedInstances> DeleteWithRetry(const std::string& study_uid, const std::string& series_uid,
                                           const std::vector<std::string>& sop_uids, bool list,
                                           const LifecycleCause& cause);
  Status DeleteIn(SqlConnection& c, const std::string& study_uid, const std::string& series_uid,
                  const std::vector<std::string>& sop_uids, bool list, const LifecycleCause& cause,
                  DeletedInstances* out);
  Result<AddResult> AddOne(SqlConnection& c, const InstanceRecord& r, bool replace);
  Result<int64_t> FindPatientFor(SqlConnection& c, const InstanceRecord& r);
  std::unique_ptr<SqlDatabase> db_;
  const PnMatch pn_match_;
};

}  // namespace strata
