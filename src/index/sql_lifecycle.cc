// The lifecycle part of SqlCatalog: deleting instances (rows first, in one transaction; the
// files and objects are the caller's, after the commit), tombstones, and the choice of the
// studies whose packs hold dead entries (compaction).
#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "model/uid.h"
#include "index/sql_catalog_internal.h"

namespace strata {

// v4: one tombstone per deleted SOP Instance UID. A hot file whose row was deleted (the
// process died before it unlinked the file) must be removed by the reconciler, not
// re-indexed as an unacknowledged store would be.
const char* LifecycleSchemaV4() {
  return "CREATE TABLE IF NOT EXISTS deleted_instances (sop_uid TEXT PRIMARY KEY, study_uid TEXT NOT NULL,"
         " deleted_ms BIGINT NOT NULL)";
}

Result<DeletedInstances> SqlCatalog::DeleteInstances(const std::string& study_uid, const std::string& series_uid,
                                                     const std::string& sop_uid, const LifecycleCause& cause) {
  STRATA_RETURN_IF_ERROR(ValidateUid(study_uid, "StudyInstanceUID"));
  if (!series_uid.empty()) STRATA_RETURN_IF_ERROR(ValidateUid(series_uid, "SeriesInstanceUID"));
  if (!sop_uid.empty()) STRATA_RETURN_IF_ERROR(ValidateUid(sop_uid, "SOPInstanceUID"));
  std::vector<std::string> sops;
  if (!sop_uid.empty()) sops.push_back(sop_uid);
  return DeleteWithRetry(study_uid, series_uid, sops, /*list=*/false, cause);
}

Result<DeletedInstances> SqlCatalog::DeleteInstanceList(const std::string& study_uid,
                                                        const std::vector<std::string>& sop_uids,
                                                        const LifecycleCause& cause) {
  STRATA_RETURN_IF_ERROR(ValidateUid(study_uid, "StudyInstanceUID"));
  if (sop_uids.empty()) return Status::InvalidArgument("DeleteInstanceList needs at least one SOP Instance UID");
  for (const auto& uid : sop_uids) STRATA_RETURN_IF_ERROR(ValidateUid(uid, "SOPInstanceUID"));
  std::vector<std::string> sops = sop_uids;
  std::sort(sops.begin(), sops.end());
  sops.erase(std::unique(sops.begin(), sops.end()), sops.end());
  return DeleteWithRetry(study_uid, "", sops, /*list=*/true, cause);
}

Result<DeletedInstances> SqlCatalog::DeleteWithRetry(const std::string& study_uid, const std::string& series_uid,
                                                     const std::vector<std::string>& sop_uids, bool list,
                                                     const LifecycleCause& cause) {
  DeletedInstances out;
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(true));
  Status s;
  // A store racing the delete (PostgreSQL) fails one of the two on a key; it runs again.
  for (int attempt = 0; attempt < 5; ++attempt) {
    s = InTransaction(*conn, [&]() -> Status {
      out = DeletedInstances{};
      return DeleteIn(*conn, study_uid, series_uid, sop_uids, list, cause, &out);
    });
    if (s.code() != Status::Code::kConflict && s.code() != Status::Code::kUnavailable) break;
  }
  if (!s.ok()) return s;
  return out;
}

Status RecountStudySeries(SqlConnection& c, int64_t study_pk) {
  STRATA_ASSIGN_OR_RETURN(auto mods, c.Query(
      "SELECT DISTINCT modality FROM series WHERE study_pk = ? AND num_instances > 0 AND modality <> ''"
      " ORDER BY modality", {study_pk}));
  std::string modalities;
  for (const auto& m : mods) modalities += (modalities.empty() ? "" : "\\") + SqlText(m[0]);
  STRATA_ASSIGN_OR_RETURN(auto n, c.Exec(
      "UPDATE studies SET modalities = ?, num_series = (SELECT COUNT(*) FROM series WHERE study_pk = ?"
      " AND num_instances > 0) WHERE pk = ?", {modalities, study_pk, study_pk}));
  (void)n;
  return Status::OK();
}

Status SqlCatalog::DeleteIn(SqlConnection& c, const std::string& study_uid, const std::string& series_uid,
                            const std::vector<std::string>& sop_uids, bool list, const LifecycleCause& cause,
                            DeletedInstances* out) {
  const bool pg = db_->dialect() == SqlDialect::kPostgres;
  const std::string now = DbNow();
  // The study row locked first: a store into the study waits for us (or fails on its key
  // and runs again), so the counters and the empty-row checks below see every instance.
  if (pg) {
    STRATA_ASSIGN_OR_RETURN(auto lock, c.Query("SELECT pk FROM studies WHERE study_uid = ? FOR UPDATE", {study_uid}));
    (void)lock;
  }
  // The study as it was, for the lifecycle event (sql_lifecycle_events.cc).
  STRATA_ASSIGN_OR_RETURN(StudyState before, ReadStudyState(c, study_uid));
  // The last column: rejected (IOCM), already out of the counters (sql_lifecycle_rejection.cc).
  std::string sql = std::string("SELECT ") + kInstanceCols + ", i.series_pk, i.study_pk, st.patient_pk," +
                    " (SELECT COUNT(*) FROM rejected_instances r WHERE r.sop_uid = i.sop_uid)" + kInstanceFrom +
                    " WHERE st.study_uid = ?";
  std::vector<SqlValue> params{study_uid};
  if (!series_uid.empty()) {
    sql += " AND se.series_uid = ?";
    params.emplace_back(series_uid);
  }
  if (!sop_uids.empty()) {
    sql += " AND i.sop_uid IN (";
    for (size_t k = 0; k < sop_uids.size(); ++k) {
      sql += k ? ", ?" : "?";
      params.emplace_back(sop_uids[k]);
    }
    sql += ")";
  }
  STRATA_ASSIGN_OR_RETURN(auto rows, c.Query(sql, params));
  struct Sum {
    int64_t count = 0, bytes = 0;
  };
  std::map<int64_t, Sum> by_series;
  Sum study_sum;
  int64_t study_pk = 0, patient_pk = 0;
  std::set<std::string> packs;
  for (const auto& row : rows) {
    const size_t n = row.size();
    const int64_t inst_pk = SqlInt(row[n - 5]);
    const bool counted = SqlInt(row[n - 1]) == 0;
    STRATA_ASSIGN_OR_RETURN(auto gone, c.Exec("DELETE FROM instances WHERE pk = ?", {inst_pk}));
    if (gone != 1) continue;  // deleted by someone else meanwhile: not ours to count
    InstanceRecord r = RowToInstance(row);
    STRATA_ASSIGN_OR_RETURN(auto t, c.Exec(
        "INSERT INTO deleted_instances (sop_uid, study_uid, deleted_ms) VALUES (?, ?, " + now + ")"
        " ON CONFLICT (sop_uid) DO UPDATE SET study_uid = excluded.study_uid, deleted_ms = excluded.deleted_ms",
        {r.sop_uid, r.study_uid}));
    (void)t;
    Sum& se = by_series[SqlInt(row[n - 4])];
    if (counted) {
      ++se.count;
      se.bytes += static_cast<int64_t>(r.size);
      ++study_sum.count;
      study_sum.bytes += static_cast<int64_t>(r.size);
    }
    study_pk = SqlInt(row[n - 3]);
    patient_pk = SqlInt(row[n - 2]);
    if (r.location.tier == Location::Tier::kCold) packs.insert(r.location.pack_key);
    out->instances.push_back(std::move(r));
  }
  if (out->instances.empty())
    return Status::NotFound("no instance of study " + study_uid + (series_uid.empty() ? "" : " series " + series_uid) +
                            (sop_uids.size() == 1 ? " instance " + sop_uids[0]
                             : sop_uids.empty()   ? ""
                                                  : " among the " + std::to_string(sop_uids.size()) + " named"));
  for (const auto& [series_pk, sum] : by_series) {
    STRATA_ASSIGN_OR_RETURN(auto n1, c.Exec(
        "UPDATE series SET num_instances = num_instances - ?, size_bytes = size_bytes - ? WHERE pk = ?",
        {sum.count, sum.bytes, series_pk}));
    STRATA_ASSIGN_OR_RETURN(auto n2, c.Exec(
        "DELETE FROM series WHERE pk = ? AND NOT EXISTS (SELECT 1 FROM instances WHERE series_pk = ?)",
        {series_pk, series_pk}));
    (void)n1; (void)n2;
  }
  STRATA_ASSIGN_OR_RETURN(auto n3, c.Exec(
      "UPDATE studies SET num_instances = num_instances - ?, size_bytes = size_bytes - ? WHERE pk = ?",
      {study_sum.count, study_sum.bytes, study_pk}));
  // Modalities in Study and the series count: those of the series still counted.
  STRATA_RETURN_IF_ERROR(RecountStudySeries(c, study_pk));
  STRATA_ASSIGN_OR_RETURN(auto n4, c.Exec(
      "DELETE FROM studies WHERE pk = ? AND NOT EXISTS (SELECT 1 FROM instances WHERE study_pk = ?)"
      " AND NOT EXISTS (SELECT 1 FROM series WHERE study_pk = ?)", {study_pk, study_pk, study_pk}));
  STRATA_ASSIGN_OR_RETURN(auto n5, c.Exec(
      "DELETE FROM patients WHERE pk = ? AND NOT EXISTS (SELECT 1 FROM studies WHERE patient_pk = ?)",
      {patient_pk, patient_pk}));
  // A study row gone takes its correction records (sql_corrections.cc) with it: the same
  // study sent again starts with the values it carries.
  STRATA_ASSIGN_OR_RETURN(auto n6, c.Exec(
      "DELETE FROM corrections WHERE study_pk = ? AND NOT EXISTS (SELECT 1 FROM studies WHERE pk = ?)",
      {study_pk, study_pk}));
  (void)n3; (void)n4; (void)n5; (void)n6;
  // The record of the change, in this transaction: every node lists it once it commits.
  STRATA_ASSIGN_OR_RETURN(StudyState after, ReadStudyState(c, study_uid));
  LifecycleEvent& e = out->event;
  e.action = cause.action.empty() ? "delete" : cause.action;
  e.who = cause.who;
  e.reason = cause.reason;
  e.study_uid = study_uid;
  // The scope: the series named, or the only series of the instances named; the instance
  // when one was named.
  std::set<std::string> touched;
  for (const auto& r : out->instances) touched.insert(r.series_uid);
  e.series_uid = !series_uid.empty() ? series_uid : !sop_uids.empty() && touched.size() == 1 ? *touched.begin() : "";
  e.sop_uid = sop_uids.size() == 1 ? sop_uids[0] : "";
  NameStudy(before, &e);
  e.instances = static_cast<int64_t>(out->instances.size());
  if (list) {  // a list names no series: the event does, for people (the grace pass's one event)
    nlohmann::ordered_json uids = nlohmann::ordered_json::array();
    for (const auto& uid : touched) uids.push_back(uid);
    e.old_values = StudyStateJson(before, {{"series_uids", uids.dump()}});
  } else {
    e.old_values = StudyStateJson(before);
  }
  e.new_values = after.found ? StudyStateJson(after, {{"deleted", std::to_string(out->instances.size())}})
                             : StudyStateJson(after, {{"study", "\"deleted\""},
                                                      {"deleted", std::to_string(out->instances.size())}});
  STRATA_RETURN_IF_ERROR(InsertLifecycleEvent(c, now, &e));
  // A pack nothing references any more loses its row now (its object is then deletable: I2);
  // one still referenced keeps it, and its dead entries wait for the compaction.
  for (const auto& key : packs) {
    STRATA_ASSIGN_OR_RETURN(auto n, c.Exec(
        "DELETE FROM packs WHERE pack_key = ? AND NOT EXISTS (SELECT 1 FROM instances WHERE pack_key = ? AND tier = 1)",
        {key, key}));
    (n == 1 ? out->emptied_packs : out->thinned_packs).push_back(key);
  }
  return Status::OK();
}

Result<bool> SqlCatalog::IsDeleted(const std::string& sop_uid) {
  STRATA_RETURN_IF_ERROR(ValidateUid(sop_uid, "SOPInstanceUID"));
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(false));
  STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query("SELECT 1 FROM deleted_instances WHERE sop_uid = ?", {sop_uid}));
  return !rows.empty();
}

Result<std::vector<std::string>> SqlCatalog::StudiesToCompact(size_t limit) {
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(false));
  STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query(
      "SELECT p.study_uid, MIN(p.created_ms) FROM packs p"
      " WHERE p.entries > (SELECT COUNT(*) FROM instances i WHERE i.pack_key = p.pack_key AND i.tier = 1)"
      " AND NOT EXISTS (SELECT 1 FROM migrations m WHERE m.study_uid = p.study_uid"
      "   AND m.state NOT IN ('done','failed') AND m.lease_until_ms > " + std::string(DbNow()) + ")"
      " GROUP BY p.study_uid ORDER BY 2 LIMIT ?", {static_cast<int64_t>(limit ? limit : 16)}));
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(SqlText(r[0]));
  return out;
}

}  // namespace strata
