#include "index/sql_catalog.h"

#include "index/sql_catalog_internal.h"

#include <algorithm>
#include <set>

#include "model/uid.h"
#include "index/query_sql.h"
#include "util/utf8.h"

namespace strata {
namespace {

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

// Schema v1. {PK} is the auto-increment key type of the dialect.
const char* kSchemaV1 = R"SQL(
CREATE TABLE IF NOT EXISTS patients (
  pk {PK}, patient_id TEXT NOT NULL, issuer TEXT NOT NULL, patient_name TEXT NOT NULL,
  patient_name_norm TEXT NOT NULL, birth_date TEXT NOT NULL, sex TEXT NOT NULL,
  UNIQUE (patient_id, issuer));
CREATE INDEX IF NOT EXISTS patients_name ON patients (patient_name_norm);
CREATE TABLE IF NOT EXISTS studies (
  pk {PK}, study_uid TEXT NOT NULL UNIQUE, patient_pk BIGINT NOT NULL REFERENCES patients (pk),
  study_date TEXT NOT NULL, study_time TEXT NOT NULL, accession TEXT NOT NULL, study_id TEXT NOT NULL,
  description TEXT NOT NULL, referring TEXT NOT NULL, referring_norm TEXT NOT NULL,
  modalities TEXT NOT NULL, num_series BIGINT NOT NULL, num_instances BIGINT NOT NULL,
  size_bytes BIGINT NOT NULL, last_received_ms BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS studies_patient ON studies (patient_pk);
CREATE INDEX IF NOT EXISTS studies_date ON studies (study_date);
CREATE INDEX IF NOT EXISTS studies_accession ON studies (accession);
CREATE INDEX IF NOT EXISTS studies_received ON studies (last_received_ms);
CREATE TABLE IF NOT EXISTS series (
  pk {PK}, series_uid TEXT NOT NULL UNIQUE, study_pk BIGINT NOT NULL REFERENCES studies (pk),
  modality TEXT NOT NULL, series_number BIGINT NOT NULL, description TEXT NOT NULL,
  body_part TEXT NOT NULL, series_date TEXT NOT NULL, series_time TEXT NOT NULL,
  num_instances BIGINT NOT NULL, size_bytes BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS series_study ON series (study_pk);
CREATE TABLE IF NOT EXISTS instances (
  pk {PK}, sop_uid TEXT NOT NULL UNIQUE, series_pk BIGINT NOT NULL REFERENCES series (pk),
  study_pk BIGINT NOT NULL REFERENCES studies (pk), sop_class TEXT NOT NULL,
  instance_number BIGINT NOT NULL, rows BIGINT NOT NULL, columns BIGINT NOT NULL, frames BIGINT NOT NULL,
  transfer_syntax TEXT NOT NULL, size BIGINT NOT NULL, checksum TEXT NOT NULL, received_ms BIGINT NOT NULL,
  tier INTEGER NOT NULL, hot_path TEXT NOT NULL, pack_key TEXT NOT NULL, pack_offset BIGINT NOT NULL,
  pack_length BIGINT NOT NULL, entry_checksum TEXT NOT NULL, entry_syntax TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS instances_series ON instances (series_pk, instance_number);
CREATE INDEX IF NOT EXISTS instances_study_tier ON instances (study_pk, tier);
CREATE INDEX IF NOT EXISTS instances_pack ON instances (pack_key);
CREATE TABLE IF NOT EXISTS packs (
  pack_key TEXT PRIMARY KEY, study_uid TEXT NOT NULL, generation BIGINT NOT NULL, size BIGINT NOT NULL,
  entries BIGINT NOT NULL, checksum TEXT NOT NULL, created_ms BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS packs_study ON packs (study_uid);
CREATE TABLE IF NOT EXISTS migrations (
  study_uid TEXT PRIMARY KEY, state TEXT NOT NULL, node TEXT NOT NULL, lease_until_ms BIGINT NOT NULL,
  pack_key TEXT NOT NULL, updated_ms BIGINT NOT NULL, error TEXT NOT NULL, attempts BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL);
)SQL";

// v2: duplicates are compared by data set, not by the whole file (the meta header differs
// between C-STORE and STOW-RS). Rows stored before it have ''.
const char* kSchemaV2 = "ALTER TABLE instances ADD COLUMN dataset_checksum TEXT NOT NULL DEFAULT ''";
// v3: every migration claim carries a fencing token (issue 10 defect 4).
const char* kSchemaV3 = "ALTER TABLE migrations ADD COLUMN claim_token BIGINT NOT NULL DEFAULT 0";

}  // namespace

// v5 (issue 12): the names folded for case- and accent-insensitive matching (query.pn_match),
// beside the _norm columns of exact matching. Filled for existing rows by the backfill.
const char* CharsetSchemaV5() {
  return "ALTER TABLE patients ADD COLUMN patient_name_fold TEXT NOT NULL DEFAULT '';\n"
         "ALTER TABLE studies ADD COLUMN referring_fold TEXT NOT NULL DEFAULT '';\n"
         "CREATE INDEX IF NOT EXISTS patients_name_fold ON patients (patient_name_fold);\n";
}

Status CharsetSchemaV5Backfill(SqlConnection& conn) {
  // The fold is computed here, not in SQL: both engines get the same key (util/utf8.h).
  struct Column {
    const char *table, *source, *target;
  };
  for (const Column& c : {Column{"patients", "patient_name", "patient_name_fold"},
                          Column{"studies", "referring", "referring_fold"}}) {
    STRATA_ASSIGN_OR_RETURN(auto rows, conn.Query(std::string("SELECT pk, ") + c.source + " FROM " + c.table +
                                                      " WHERE " + c.source + " <> ''", {}));
    const std::string update = std::string("UPDATE ") + c.table + " SET " + c.target + " = ? WHERE pk = ?";
    for (const SqlRow& row : rows) {
      STRATA_ASSIGN_OR_RETURN(auto n, conn.Exec(update, {FoldForMatching(SqlText(row[1])), SqlInt(row[0])}));
      (void)n;
    }
  }
  return Status::OK();
}

InstanceRecord RowToInstance(const SqlRow& r) {
  InstanceRecord x;
  size_t c = 0;
  auto s = [&]() { return SqlText(r[c++]); };
  auto n = [&]() { return SqlInt(r[c++]); };
  x.patient_id = s(); x.issuer = s(); x.patient_name = s(); x.birth_date = s(); x.sex = s();
  x.study_uid = s(); x.study_date = s(); x.study_time = s(); x.accession = s(); x.study_id = s();
  x.study_description = s(); x.referring_physician = s();
  x.series_uid = s(); x.modality = s(); x.series_description = s(); x.body_part = s();
  x.series_date = s(); x.series_time = s(); x.series_number = n();
  x.sop_uid = s(); x.sop_class_uid = s(); x.transfer_syntax = s(); x.instance_number = n();
  x.rows = n(); x.columns = n(); x.frames = n(); x.size = static_cast<uint64_t>(n());
  x.checksum = s(); x.received_ms = n();
  x.location.tier = n() == 1 ? Location::Tier::kCold : Location::Tier::kHot;
  x.location.hot_path = s(); x.location.pack_key = s();
  x.location.offset = static_cast<uint64_t>(n()); x.location.length = static_cast<uint64_t>(n());
  x.location.entry_checksum = s(); x.location.entry_syntax = s();
  x.dataset_checksum = s();
  x.timezone_offset = s(); x.pps_start_date = s(); x.pps_start_time = s(); x.request_attributes = s();
  x.bits_allocated = n(); x.header_json = s();
  return x;
}

std::vector<SqlValue> LocationParams(const Location& l) {
  return {static_cast<int64_t>(l.tier == Location::Tier::kCold ? 1 : 0), l.hot_path, l.pack_key,
          static_cast<int64_t>(l.offset), static_cast<int64_t>(l.length), l.entry_checksum, l.entry_syntax};
}

static Result<bool> ColumnExists(SqlConnection& c, SqlDialect dialect, const std::string& table, const std::string& column) {
  const char* sql = dialect == SqlDialect::kSqlite
                        ? "SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?"
                        : "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema()"
                          " AND table_name = ? AND column_name = ?";
  STRATA_ASSIGN_OR_RETURN(auto rows, c.Query(sql, {table, column}));
  return !rows.empty() && SqlInt(rows[0][0]) > 0;
}

Status SqlCatalog::Init() {
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(true));
  const std::string pk = db_->dialect() == SqlDialect::kSqlite ? "INTEGER PRIMARY KEY" : "BIGSERIAL PRIMARY KEY";
  return InTransaction(*conn, [&]() -> Status {
    STRATA_RETURN_IF_ERROR(conn->ExecScript("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)"));
    // Nodes opening one PostgreSQL catalog at once upgrade it one after the other.
    if (db_->dialect() == SqlDialect::kPostgres)
      STRATA_RETURN_IF_ERROR(conn->ExecScript("LOCK TABLE schema_version IN SHARE ROW EXCLUSIVE MODE"));
    STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query("SELECT version FROM schema_version", {}));
    const int64_t current = rows.empty() ? 0 : SqlInt(rows[0][0]);
    if (current > kCatalogSchemaVersion)
      return Status::InvalidArgument("catalog schema version " + std::to_string(current) +
                                     " is newer than this build understands (" +
                                     std::to_string(kCatalogSchemaVersion) + ")");
    for (const CatalogSchemaStep& step : CatalogSchemaSteps()) {
      if (step.probe_table != nullptr) {
        STRATA_ASSIGN_OR_RETURN(bool has, ColumnExists(*conn, db_->dialect(), step.probe_table, step.probe_column));
        if (has) continue;
      } else if (step.version <= current) {
        continue;
      }
      std::string ddl = step.script;
      for (size_t p; (p = ddl.find("{PK}")) != std::string::npos;) ddl.replace(p, 4, pk);
      STRATA_RETURN_IF_ERROR(conn->ExecScript(ddl));
      if (step.backfill) STRATA_RETURN_IF_ERROR(step.backfill(*conn));
    }
    if (rows.empty()) {
      STRATA_ASSIGN_OR_RETURN(auto n, conn->Exec("INSERT INTO schema_version (version) VALUES (?)",
                                                 {static_cast<int64_t>(kCatalogSchemaVersion)}));
      (void)n;  // one row inserted or the transaction fails
    } else if (current < kCatalogSchemaVersion) {
      STRATA_ASSIGN_OR_RETURN(auto n, conn->Exec("UPDATE schema_version SET version = ?",
                                                 {static_cast<int64_t>(kCatalogSchemaVersion)}));
      (void)n;
    }
    return Status::OK();
  });
}

Result<std::vector<AddResult>> SqlCatalog::AddInstances(const std::vector<InstanceRecord>& records, bool replace) {
  for (const auto& r : records) {
    STRATA_RETURN_IF_ERROR(ValidateUid(r.sop_uid, "SOPInstanceUID"));
    STRATA_RETURN_IF_ERROR(ValidateUid(r.study_uid, "StudyInstanceUID"));
    STRATA_RETURN_IF_ERROR(ValidateUid(r.series_uid, "SeriesInstanceUID"));
  }
  std::vector<AddResult> results;
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(true));
  // Another node may insert the same patient/study/series at the same moment: the loser's
  // transaction fails on a unique key and simply runs again (it then finds the rows).
  Status s;
  for (int attempt = 0; attempt < 5; ++attempt) {
    s = InTransaction(*conn, [&]() -> Status {
      results.clear();
      for (const auto& r : records) {
        STRATA_ASSIGN_OR_RETURN(AddResult ar, AddOne(*conn, r, replace));
        results.push_back(std::move(ar));
      }
      return Status::OK();
    });
    // Only definite failures run again (the drivers report a lost COMMIT answer as
    // kUnknownOutcome, which goes to the caller to read back). A re-run would be harmless
    // anyway: AddOne finds a committed row and answers kIdentical instead of adding twice.
    if (s.code() != Status::Code::kConflict && s.code() != Status::Code::kUnavailable) break;
  }
  if (!s.ok()) return s;
  return results;
}

Result<InstanceRecord> SqlCatalog::GetInstance(const std::string& sop_uid) {
  STRATA_RETURN_IF_ERROR(ValidateUid(sop_uid, "SOPInstanceUID"));
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(false));
  STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query(std::string("SELECT ") + kInstanceCols + kInstanceFrom +
                                                     " WHERE i.sop_uid = ?", {sop_uid}));
  if (rows.empty()) return Status::NotFound("no instance " + sop_uid);
  return RowToInstance(rows[0]);
}

Result<std::vector<InstanceRecord>> SqlCatalog::ListInstances(const std::string& study_uid, const std::string& series_uid,
                                                  const std::string& sop_uid) {
  std::string where;
  std::vector<SqlValue> params;
  auto add = [&](const std::string& v, const char* col, const char* what) -> Status {
    if (v.empty()) return Status::OK();
    STRATA_RETURN_IF_ERROR(ValidateUid(v, what));
    where += where.empty() ? " WHERE " : " AND ";
    where += std::string(col) + " = ?";
    params.emplace_back(v);
    return Status::OK();
  };
  STRATA_RETURN_IF_ERROR(add(study_uid, "st.study_uid", "StudyInstanceUID"));
  STRATA_RETURN_IF_ERROR(add(series_uid, "se.series_uid", "SeriesInstanceUID"));
  STRATA_RETURN_IF_ERROR(add(sop_uid, "i.sop_uid", "SOPInstanceUID"));
  if (where.empty()) return Status::InvalidArgument("ListInstances needs a study, series or instance UID");
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(false));
  STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query(std::string("SELECT ") + kInstanceCols + kInstanceFrom + where +
                                                     " ORDER BY se.series_number, se.pk, i.instance_number, i.pk",
                                                 params));
  std::vector<InstanceRecord> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(RowToInstance(r));
  return out;
}

Result<std::vector<AttributeValues>> SqlCatalog::Find(const Query& query) {
  STRATA_ASSIGN_OR_RETURN(SqlQuery q, BuildFindSql(query, pn_match_));
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(false));
  STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query(q.sql, q.params));
  std::vector<AttributeValues> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    AttributeValues v;
    for (size_t c = 0; c < q.columns.size(); ++c) {
      const AttributeDef* def = q.columns[c];
      std::string text = SqlText(r[c]);
      // Integers that were absent are stored as 0; return them empty rather than invent 0.
      if (def->kind == MatchKind::kInt && text == "0") text.clear();
      v[def->tag] = std::move(text);
    }
    out.push_back(std::move(v));
  }
  return out;
}

Result<uint64_t> SqlCatalog::Count(const Query& query) {
  STRATA_ASSIGN_OR_RETURN(SqlQuery q, BuildFindSql(query, pn_match_));
  q.params.resize(q.count_params);
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(false));
  STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query(q.count_sql, q.params));
  if (rows.empty() || rows[0].empty()) return Status::Internal("COUNT(*) returned no row");
  return static_cast<uint64_t>(SqlInt(rows[0][0]));
}

Result<CatalogStats> SqlCatalog::Stats() {
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(false));
  CatalogStats s;
  STRATA_ASSIGN_OR_RETURN(auto a, conn->Query(
      "SELECT (SELECT COUNT(*) FROM patients), (SELECT COUNT(*) FROM studies), (SELECT COUNT(*) FROM series),"
      " (SELECT COUNT(*) FROM packs), (SELECT COALESCE(SUM(size),0) FROM packs)", {}));
  s.patients = SqlInt(a[0][0]); s.studies = SqlInt(a[0][1]); s.series = SqlInt(a[0][2]);
  s.packs = SqlInt(a[0][3]); s.pack_bytes = SqlInt(a[0][4]);
  STRATA_ASSIGN_OR_RETURN(auto b, conn->Query(
      "SELECT tier, COUNT(*), COALESCE(SUM(size),0) FROM instances GROUP BY tier", {}));
  for (const auto& r : b) {
    if (SqlInt(r[0]) == 1) { s.cold_instances = SqlInt(r[1]); s.cold_bytes = SqlInt(r[2]); }
    else { s.hot_instances = SqlInt(r[1]); s.hot_bytes = SqlInt(r[2]); }
  }
  s.instances = s.hot_instances + s.cold_instances;
  return s;
}

// The patient row a new study of R joins (0: none, the caller creates (PatientID, Issuer)).
// PatientID is unique only within its issuer (PS3.3 C.7.1.1; the UNIQUE key is the pair), so
// an instance naming an issuer joins exactly that pair. One naming NO issuer is taken to come
// from a sender that leaves the issuer out (a modality keyed to the hospital's worklist): it
// joins the row without an issuer when there is one, else the ONLY patient with that ID,
// whatever its issuer, as dcm4chee-arc does (PatientService.findPatients: a missing issuer
// matches any). With several issuers' patients of that ID it cannot choose: it gets the row
// without an issuer (dcm4chee-arc refuses such a store; a store is not refused here for it).
// An empty PatientID identifies nobody: matched as a pair only. Orthanc, for comparison, keys
// patients by PatientID alone (its patient id is a hash of PatientID), so it would always join.
Result<int64_t> SqlCatalog::FindPatientFor(SqlConnection& c, const InstanceRecord& r) {
  if (!r.issuer.empty() || r.patient_id.empty()) {
    STRATA_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT pk FROM patients WHERE patient_id = ? AND issuer = ?",
                                               {r.patient_id, r.issuer}));
    return rows.empty() ? int64_t{0} : SqlInt(rows[0][0]);
  }
  // '' sorts first: the row without an issuer wins when there is one.
  STRATA_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT pk, issuer FROM patients WHERE patient_id = ?"
                                             " ORDER BY issuer LIMIT 2", {r.patient_id}));
  if (rows.empty()) return int64_t{0};
  if (SqlText(rows[0][1]).empty() || rows.size() == 1) return SqlInt(rows[0][0]);
  return int64_t{0};
}

Result<AddResult> SqlCatalog::AddOne(SqlConnection& c, const InstanceRecord& r, bool replace) {
  AddResult out;
  STRATA_ASSIGN_OR_RETURN(auto existing, c.Query(std::string("SELECT ") + kInstanceCols + kInstanceFrom +
                                                     " WHERE i.sop_uid = ?", {r.sop_uid}));
  if (!existing.empty()) {
    InstanceRecord prev = RowToInstance(existing[0]);
    const int64_t inst_pk = SqlInt(existing[0].back());
    out.previous = prev;
    // The same data set under another meta header is the same instance.
    if (prev.checksum == r.checksum ||
        (!prev.dataset_checksum.empty() && prev.dataset_checksum == r.dataset_checksum)) {
      out.outcome = AddOutcome::kIdentical;
      return out;
    }
    if (!replace) {
      out.outcome = AddOutcome::kConflict;
      return out;
    }
    // Replace: the row keeps its study/series (a corrected file must not move between studies
    // silently; the archive refuses that case before calling us).
    std::vector<SqlValue> params = LocationParams(r.location);
    params.insert(params.begin(), {r.transfer_syntax, static_cast<int64_t>(r.size), r.checksum, r.received_ms,
                                   r.instance_number, r.rows, r.columns, r.frames, r.sop_class_uid});
    params.emplace_back(r.dataset_checksum);
    params.emplace_back(r.bits_allocated);
    params.emplace_back(r.header_json);
    params.emplace_back(inst_pk);
    STRATA_ASSIGN_OR_RETURN(auto n, c.Exec(
        "UPDATE instances SET transfer_syntax = ?, size = ?, checksum = ?, received_ms = ?, instance_number = ?,"
        " rows = ?, columns = ?, frames = ?, sop_class = ?, tier = ?, hot_path = ?, pack_key = ?, pack_offset = ?,"
        " pack_length = ?, entry_checksum = ?, entry_syntax = ?, dataset_checksum = ?, bits_allocated = ?,"
        " header_json = ? WHERE pk = ?", params));
    (void)n;
    const int64_t delta = static_cast<int64_t>(r.size) - static_cast<int64_t>(prev.size);
    STRATA_ASSIGN_OR_RETURN(auto n2, c.Exec(
        "UPDATE studies SET size_bytes = size_bytes + ?, last_received_ms = ? WHERE study_uid = ?",
        {delta, r.received_ms, prev.study_uid}));
    STRATA_ASSIGN_OR_RETURN(auto n3, c.Exec("UPDATE series SET size_bytes = size_bytes + ? WHERE series_uid = ?",
                                            {delta, prev.series_uid}));
    (void)n2; (void)n3;
    out.outcome = AddOutcome::kReplaced;
    return out;
  }

  // Patient: keyed by (PatientID, Issuer). An instance of a study already catalogued joins
  // that study's patient whatever it carries (a corrected or merged study keeps its patient).
  int64_t patient_pk = 0;
  STRATA_ASSIGN_OR_RETURN(auto srow, c.Query("SELECT pk, modalities FROM studies WHERE study_uid = ?", {r.study_uid}));
  if (srow.empty()) {
    STRATA_ASSIGN_OR_RETURN(patient_pk, FindPatientFor(c, r));
    if (patient_pk == 0) {
      STRATA_ASSIGN_OR_RETURN(auto ins, c.Query(
          "INSERT INTO patients (patient_id, issuer, patient_name, patient_name_norm, patient_name_fold, birth_date,"
          " sex) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING pk",
          {r.patient_id, r.issuer, r.patient_name, Upper(r.patient_name), FoldForMatching(r.patient_name),
           r.birth_date, r.sex}));
      patient_pk = SqlInt(ins[0][0]);
    }
  }

  int64_t study_pk;
  std::string modalities;
  if (srow.empty()) {
    STRATA_ASSIGN_OR_RETURN(auto ins, c.Query(
        "INSERT INTO studies (study_uid, patient_pk, study_date, study_time, accession, study_id, description,"
        " referring, referring_norm, referring_fold, modalities, num_series, num_instances, size_bytes,"
        " last_received_ms, timezone_offset) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, 0, 0, ?, ?) RETURNING pk",
        {r.study_uid, patient_pk, r.study_date, r.study_time, r.accession, r.study_id, r.study_description,
         r.referring_physician, Upper(r.referring_physician), FoldForMatching(r.referring_physician),
         r.received_ms, r.timezone_offset}));
    study_pk = SqlInt(ins[0][0]);
  } else {
    study_pk = SqlInt(srow[0][0]);
    modalities = SqlText(srow[0][1]);
  }

  int64_t series_pk;
  bool series_counted = false;  // the series was not counted in the study: new, or wholly rejected (IOCM)
  std::string series_modality = r.modality;
  STRATA_ASSIGN_OR_RETURN(auto serow, c.Query("SELECT pk, study_pk, num_instances, modality FROM series"
                                              " WHERE series_uid = ?", {r.series_uid}));
  if (serow.empty()) {
    STRATA_ASSIGN_OR_RETURN(auto ins, c.Query(
        "INSERT INTO series (series_uid, study_pk, modality, series_number, description, body_part, series_date,"
        " series_time, num_instances, size_bytes, pps_start_date, pps_start_time, request_attributes)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?) RETURNING pk",
        {r.series_uid, study_pk, r.modality, r.series_number, r.series_description, r.body_part, r.series_date,
         r.series_time, r.pps_start_date, r.pps_start_time, r.request_attributes}));
    series_pk = SqlInt(ins[0][0]);
    series_counted = true;
  } else {
    series_pk = SqlInt(serow[0][0]);
    if (SqlInt(serow[0][1]) != study_pk)
      return Status::InvalidArgument("series " + r.series_uid + " already belongs to another study");
    // A series whose every instance is rejected was counted out of num_series and
    // ModalitiesInStudy (sql_lifecycle_rejection.cc): this instance brings it back.
    series_counted = SqlInt(serow[0][2]) == 0;
    series_modality = SqlText(serow[0][3]);
  }

  std::vector<SqlValue> params{r.sop_uid, series_pk, study_pk, r.sop_class_uid, r.instance_number, r.rows,
                               r.columns, r.frames, r.transfer_syntax, static_cast<int64_t>(r.size), r.checksum,
                               r.received_ms};
  for (auto& v : LocationParams(r.location)) params.push_back(std::move(v));
  params.emplace_back(r.dataset_checksum);
  params.emplace_back(r.bits_allocated);
  params.emplace_back(r.header_json);
  STRATA_ASSIGN_OR_RETURN(auto n, c.Exec(
      "INSERT INTO instances (sop_uid, series_pk, study_pk, sop_class, instance_number, rows, columns, frames,"
      " transfer_syntax, size, checksum, received_ms, tier, hot_path, pack_key, pack_offset, pack_length,"
      " entry_checksum, entry_syntax, dataset_checksum, bits_allocated, header_json)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", params));
  (void)n;
  STRATA_ASSIGN_OR_RETURN(auto n2, c.Exec(
      "UPDATE series SET num_instances = num_instances + 1, size_bytes = size_bytes + ? WHERE pk = ?",
      {static_cast<int64_t>(r.size), series_pk}));
  (void)n2;
  if (series_counted && !series_modality.empty()) {
    std::set<std::string> mods;
    size_t start = 0;
    while (start <= modalities.size() && !modalities.empty()) {
      size_t p = modalities.find('\\', start);
      mods.insert(modalities.substr(start, p == std::string::npos ? std::string::npos : p - start));
      if (p == std::string::npos) break;
      start = p + 1;
    }
    mods.insert(series_modality);
    modalities.clear();
    for (const auto& m : mods) modalities += (modalities.empty() ? "" : "\\") + m;
  }
  STRATA_ASSIGN_OR_RETURN(auto n3, c.Exec(
      "UPDATE studies SET num_instances = num_instances + 1, num_series = num_series + ?, size_bytes = size_bytes + ?,"
      " last_received_ms = ?, modalities = ? WHERE pk = ?",
      {static_cast<int64_t>(series_counted ? 1 : 0), static_cast<int64_t>(r.size), r.received_ms, modalities,
       study_pk}));
  (void)n3;
  out.outcome = AddOutcome::kAdded;
  return out;
}


const std::vector<CatalogSchemaStep>& CatalogSchemaSteps() {
  // Append new versions at the end (and raise kCatalogSchemaVersion); never edit a step.
  static const std::vector<CatalogSchemaStep> steps = {
      {1, kSchemaV1},
      {2, kSchemaV2},
      {3, kSchemaV3},
      {4, LifecycleSchemaV4()},
      {5, CharsetSchemaV5(), CharsetSchemaV5Backfill},
      {6, QidoSchemaV6(), nullptr, "instances", "header_json"},
      {7, LifecycleSchemaV7()},
      {8, ReplicaSchemaV8()},
      {9, CorrectionsSchemaV9(), nullptr, "corrections", "attribute_tag"},
      {10, LifecycleEventsSchemaV10(), nullptr, "lifecycle_events", "new_values"},
  };
  return steps;
}

Result<std::unique_ptr<Catalog>> OpenSqlCatalog(std::unique_ptr<SqlDatabase> db, PnMatch pn_match) {
  auto cat = std::make_unique<SqlCatalog>(std::move(db), pn_match);
  STRATA_RETURN_IF_ERROR(cat->Init());
  return std::unique_ptr<Catalog>(std::move(cat));
}

}  // namespace strata
