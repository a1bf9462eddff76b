// The lifecycle events of SqlCatalog (issue 15): one row per delete, rejection, retention
// deletion (and, through InsertLifecycleEvent, per correction or merge), written inside the
// change's own transaction, so a change and its record commit together and every node that
// shares the catalog lists the same history (GET /api/lifecycle, the page's archive view).
#include <nlohmann/json.hpp>

#include "index/sql_catalog_internal.h"

namespace strata {

// v10: the lifecycle events. Independent of the other steps' tables (a corrections step may
// land before or after it); probed by its last column, so a renumbered step runs once.
const char* LifecycleEventsSchemaV10() {
  return "CREATE TABLE IF NOT EXISTS lifecycle_events (id {PK}, at_ms BIGINT NOT NULL, action TEXT NOT NULL,"
         " who TEXT NOT NULL, reason TEXT NOT NULL, study_uid TEXT NOT NULL, series_uid TEXT NOT NULL,"
         " sop_uid TEXT NOT NULL, patient_id TEXT NOT NULL, patient_name TEXT NOT NULL, study_date TEXT NOT NULL,"
         " study_description TEXT NOT NULL, accession TEXT NOT NULL, modalities TEXT NOT NULL,"
         " instances BIGINT NOT NULL, old_values TEXT NOT NULL, new_values TEXT NOT NULL);"
         "CREATE INDEX IF NOT EXISTS lifecycle_events_time ON lifecycle_events (at_ms);"
         "CREATE INDEX IF NOT EXISTS lifecycle_events_study ON lifecycle_events (study_uid)";
}

namespace {

constexpr const char* kEventCols =
    "id, at_ms, action, who, reason, study_uid, series_uid, sop_uid, patient_id, patient_name, study_date,"
    " study_description, accession, modalities, instances, old_values, new_values";

LifecycleEvent RowToEvent(const SqlRow& r) {
  LifecycleEvent e;
  size_t c = 0;
  auto s = [&]() { return SqlText(r[c++]); };
  e.id = SqlInt(r[c++]);
  e.at_ms = SqlInt(r[c++]);
  e.action = s(); e.who = s(); e.reason = s();
  e.study_uid = s(); e.series_uid = s(); e.sop_uid = s();
  e.patient_id = s(); e.patient_name = s(); e.study_date = s(); e.study_description = s();
  e.accession = s(); e.modalities = s();
  e.instances = SqlInt(r[c++]);
  e.old_values = s(); e.new_values = s();
  return e;
}

}  // namespace

Result<StudyState> ReadStudyState(SqlConnection& c, const std::string& study_uid) {
  STRATA_ASSIGN_OR_RETURN(auto rows, c.Query(
      "SELECT p.patient_id, p.patient_name, st.study_date, st.description, st.accession, st.modalities,"
      " st.num_instances, st.num_series FROM studies st JOIN patients p ON p.pk = st.patient_pk"
      " WHERE st.study_uid = ?", {study_uid}));
  StudyState s;
  if (rows.empty()) return s;
  const SqlRow& r = rows[0];
  s.found = true;
  s.patient_id = SqlText(r[0]);
  s.patient_name = SqlText(r[1]);
  s.study_date = SqlText(r[2]);
  s.description = SqlText(r[3]);
  s.accession = SqlText(r[4]);
  s.modalities = SqlText(r[5]);
  s.instances = SqlInt(r[6]);
  s.series = SqlInt(r[7]);
  return s;
}

void NameStudy(const StudyState& s, LifecycleEvent* e) {
  e->patient_id = s.patient_id;
  e->patient_name = s.patient_name;
  e->study_date = s.study_date;
  e->study_description = s.description;
  e->accession = s.accession;
  e->modalities = s.modalities;
}

std::string StudyStateJson(const StudyState& s, const std::vector<std::pair<std::string, std::string>>& extra) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  // A study the catalog does not hold (deleted just now, or never stored) has none of either.
  j["instances"] = s.found ? s.instances : 0;
  j["series"] = s.found ? s.series : 0;
  j["modalities"] = s.modalities;
  for (const auto& [k, v] : extra) {
    auto parsed = nlohmann::ordered_json::parse(v, nullptr, false);
    j[k] = parsed.is_discarded() ? nlohmann::ordered_json(v) : parsed;
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Status InsertLifecycleEvent(SqlConnection& c, const std::string& now_sql, LifecycleEvent* e) {
  STRATA_ASSIGN_OR_RETURN(auto rows, c.Query(
      "INSERT INTO lifecycle_events (at_ms, action, who, reason, study_uid, series_uid, sop_uid, patient_id,"
      " patient_name, study_date, study_description, accession, modalities, instances, old_values, new_values)"
      " VALUES (" + now_sql + ", ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id, at_ms",
      {e->action, e->who, e->reason, e->study_uid, e->series_uid, e->sop_uid, e->patient_id, e->patient_name,
       e->study_date, e->study_description, e->accession, e->modalities, e->instances, e->old_values,
       e->new_values}));
  if (rows.empty()) return Status::IOError("lifecycle event insert returned no row");
  e->id = SqlInt(rows[0][0]);
  e->at_ms = SqlInt(rows[0][1]);
  return Status::OK();
}

Result<LifecycleEventPage> SqlCatalog::ListLifecycleEvents(size_t limit, size_t offset) {
  if (limit == 0 || limit > 1000) return Status::InvalidArgument("limit must be 1..1000");
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(false));
  LifecycleEventPage page;
  // Two statements: an event recorded between them makes the total one ahead of the page,
  // which a pager shrugs off.
  STRATA_ASSIGN_OR_RETURN(auto total, conn->Query("SELECT COUNT(*) FROM lifecycle_events", {}));
  page.total = static_cast<uint64_t>(SqlInt(total[0][0]));
  STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query(std::string("SELECT ") + kEventCols +
                                                     " FROM lifecycle_events ORDER BY at_ms DESC, id DESC"
                                                     " LIMIT ? OFFSET ?",
                                                 {static_cast<int64_t>(limit), static_cast<int64_t>(offset)}));
  for (const auto& r : rows) page.events.push_back(RowToEvent(r));
  return page;
}

}  // namespace strata
