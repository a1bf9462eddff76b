// The rejection part of SqlCatalog (IOCM, PS3.4 KK): one row per rejected SOP Instance UID.
// A rejected instance keeps its instance row (the converter still packs it, the reconciler
// and janitor still see its bytes as referenced, so the safety invariants hold unchanged)
// but leaves its series' and study's counters (and, with its series' last, the study's
// num_series and ModalitiesInStudy) at once; readers above the catalog hide it
// (Archive::Find / Locate) and stores of it are refused (Archive::StoreFile).
#include <algorithm>
#include <map>
#include <set>

#include "index/sql_catalog_internal.h"
#include "model/uid.h"

namespace strata {

// v7: IOCM rejections. `counted` = 1 while the instance row is still counted in its series
// and study (never, once the rejection is recorded); DeleteIn does not subtract it again.
const char* LifecycleSchemaV7() {
  return "CREATE TABLE IF NOT EXISTS rejected_instances (sop_uid TEXT PRIMARY KEY, series_uid TEXT NOT NULL,"
         " study_uid TEXT NOT NULL, reason_code TEXT NOT NULL, note_sop_uid TEXT NOT NULL,"
         " rejected_ms BIGINT NOT NULL);"
         "CREATE INDEX IF NOT EXISTS rejected_instances_study ON rejected_instances (study_uid);"
         "CREATE INDEX IF NOT EXISTS rejected_instances_time ON rejected_instances (rejected_ms)";
}

namespace {

RejectionRecord RowToRejection(const SqlRow& r) {
  RejectionRecord x;
  x.sop_uid = SqlText(r[0]);
  x.series_uid = SqlText(r[1]);
  x.study_uid = SqlText(r[2]);
  x.reason_code = SqlText(r[3]);
  x.note_sop_uid = SqlText(r[4]);
  x.rejected_ms = SqlInt(r[5]);
  return x;
}

constexpr const char* kRejectionCols = "sop_uid, series_uid, study_uid, reason_code, note_sop_uid, rejected_ms";

}  // namespace

Result<size_t> SqlCatalog::RejectInstances(const std::vector<RejectionRecord>& rejected, const LifecycleCause& cause,
                                           std::vector<LifecycleEvent>* events) {
  for (const auto& r : rejected) {
    STRATA_RETURN_IF_ERROR(ValidateUid(r.sop_uid, "ReferencedSOPInstanceUID"));
    STRATA_RETURN_IF_ERROR(ValidateUid(r.study_uid, "StudyInstanceUID"));
    if (!r.series_uid.empty()) STRATA_RETURN_IF_ERROR(ValidateUid(r.series_uid, "SeriesInstanceUID"));
  }
  const bool pg = db_->dialect() == SqlDialect::kPostgres;
  const std::string now = DbNow();
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(true));
  size_t hidden = 0;
  std::vector<LifecycleEvent> recorded;
  // The studies the note names, in order of first mention: one lifecycle event each.
  std::vector<std::string> studies;
  for (const auto& r : rejected)
    if (std::find(studies.begin(), studies.end(), r.study_uid) == studies.end()) studies.push_back(r.study_uid);
  Status s;
  for (int attempt = 0; attempt < 5; ++attempt) {
    s = InTransaction(*conn, [&]() -> Status {
      hidden = 0;
      recorded.clear();
      struct PerStudy {
        StudyState before;
        int64_t recorded = 0, hidden = 0, study_pk = 0;
        std::set<std::string> series, sops;
      };
      std::map<std::string, PerStudy> per;
      for (const auto& st : studies) {
        if (pg) {  // the study rows locked in one order, before any is changed
          STRATA_ASSIGN_OR_RETURN(auto lock, conn->Query("SELECT pk FROM studies WHERE study_uid = ? FOR UPDATE", {st}));
          (void)lock;
        }
        STRATA_ASSIGN_OR_RETURN(per[st].before, ReadStudyState(*conn, st));
      }
      for (const auto& r : rejected) {
        // The study row locked first, as DeleteIn does: a store or delete in the study waits.
        if (pg) {
          STRATA_ASSIGN_OR_RETURN(auto lock,
                                  conn->Query("SELECT pk FROM studies WHERE study_uid = ? FOR UPDATE", {r.study_uid}));
          (void)lock;
        }
        STRATA_ASSIGN_OR_RETURN(auto n, conn->Exec(
            std::string("INSERT INTO rejected_instances (") + kRejectionCols + ") VALUES (?, ?, ?, ?, ?, " + now +
                ") ON CONFLICT (sop_uid) DO NOTHING",
            {r.sop_uid, r.series_uid, r.study_uid, r.reason_code, r.note_sop_uid}));
        if (n != 1) continue;  // rejected before: counted out already
        PerStudy& ps = per[r.study_uid];
        ++ps.recorded;
        ps.series.insert(r.series_uid);
        ps.sops.insert(r.sop_uid);
        STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query(
            "SELECT i.series_pk, i.study_pk, i.size FROM instances i WHERE i.sop_uid = ?", {r.sop_uid}));
        if (rows.empty()) continue;  // not (yet) stored: its arrival is refused
        const int64_t series_pk = SqlInt(rows[0][0]), study_pk = SqlInt(rows[0][1]), size = SqlInt(rows[0][2]);
        STRATA_ASSIGN_OR_RETURN(auto n1, conn->Exec(
            "UPDATE series SET num_instances = num_instances - 1, size_bytes = size_bytes - ? WHERE pk = ?",
            {size, series_pk}));
        STRATA_ASSIGN_OR_RETURN(auto n2, conn->Exec(
            "UPDATE studies SET num_instances = num_instances - 1, size_bytes = size_bytes - ? WHERE pk = ?",
            {size, study_pk}));
        (void)n1;
        (void)n2;
        ++hidden;
        ++ps.hidden;
        ps.study_pk = study_pk;
      }
      for (const auto& st : studies) {
        const PerStudy& ps = per[st];
        if (ps.recorded == 0) continue;  // the same note again: nothing changed
        // A series left with no counted instance leaves num_series and ModalitiesInStudy.
        if (ps.hidden > 0) STRATA_RETURN_IF_ERROR(RecountStudySeries(*conn, ps.study_pk));
        STRATA_ASSIGN_OR_RETURN(StudyState after, ReadStudyState(*conn, st));
        LifecycleEvent e;
        e.action = cause.action.empty() || cause.action == "delete" ? "reject" : cause.action;
        e.who = cause.who;
        e.reason = cause.reason;
        e.study_uid = st;
        e.series_uid = ps.series.size() == 1 ? *ps.series.begin() : "";
        e.sop_uid = ps.sops.size() == 1 ? *ps.sops.begin() : "";
        NameStudy(ps.before, &e);
        e.instances = ps.hidden;
        e.old_values = StudyStateJson(ps.before);
        e.new_values = StudyStateJson(after, {{"hidden", std::to_string(ps.hidden)},
                                              {"rejected", std::to_string(ps.recorded)}});
        STRATA_RETURN_IF_ERROR(InsertLifecycleEvent(*conn, now, &e));
        recorded.push_back(std::move(e));
      }
      return Status::OK();
    });
    if (s.code() != Status::Code::kConflict && s.code() != Status::Code::kUnavailable) break;
  }
  if (!s.ok()) return s;
  if (events != nullptr) events->insert(events->end(), recorded.begin(), recorded.end());
  return hidden;
}

Result<RejectionRecord> SqlCatalog::GetRejection(const std::string& sop_uid) {
  STRATA_RETURN_IF_ERROR(ValidateUid(sop_uid, "SOPInstanceUID"));
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(false));
  STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query(std::string("SELECT ") + kRejectionCols +
                                                     " FROM rejected_instances WHERE sop_uid = ?", {sop_uid}));
  if (rows.empty()) return Status::NotFound("instance " + sop_uid + " is not rejected");
  return RowToRejection(rows[0]);
}

Result<std::vector<std::string>> SqlCatalog::RejectedInStudy(const std::string& study_uid) {
  STRATA_RETURN_IF_ERROR(ValidateUid(study_uid, "StudyInstanceUID"));
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(false));
  STRATA_ASSIGN_OR_RETURN(auto rows,
                          conn->Query("SELECT sop_uid FROM rejected_instances WHERE study_uid = ?", {study_uid}));
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(SqlText(r[0]));
  return out;
}

Result<std::vector<RejectionRecord>> SqlCatalog::RejectedBefore(int64_t before_ms, size_t limit) {
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(false));
  STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query(
      "SELECT r.sop_uid, r.series_uid, r.study_uid, r.reason_code, r.note_sop_uid, r.rejected_ms"
      " FROM rejected_instances r WHERE r.rejected_ms < ?"
      " AND EXISTS (SELECT 1 FROM instances i WHERE i.sop_uid = r.sop_uid) ORDER BY r.rejected_ms LIMIT ?",
      {before_ms, static_cast<int64_t>(limit ? limit : 256)}));
  std::vector<RejectionRecord> out;
  for (const auto& r : rows) out.push_back(RowToRejection(r));
  return out;
}

}  // namespace strata
