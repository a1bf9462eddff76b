#include "index/sql_catalog.h"

#include <algorithm>
#include <set>

#include "dicom/uid.h"
#include "index/query_sql.h"

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

constexpr const char* kInstanceCols =
    "p.patient_id, p.issuer, p.patient_name, p.birth_date, p.sex, "
    "st.study_uid, st.study_date, st.study_time, st.accession, st.study_id, st.description, st.referring, "
    "se.series_uid, se.modality, se.description, se.body_part, se.series_date, se.series_time, se.series_number, "
    "i.sop_uid, i.sop_class, i.transfer_syntax, i.instance_number, i.rows, i.columns, i.frames, i.size, "
    "i.checksum, i.received_ms, i.tier, i.hot_path, i.pack_key, i.pack_offset, i.pack_length, "
    "i.entry_checksum, i.entry_syntax, i.dataset_checksum, i.pk";
constexpr const char* kInstanceFrom =
    " FROM instances i JOIN series se ON se.pk = i.series_pk JOIN studies st ON st.pk = i.study_pk"
    " JOIN patients p ON p.pk = st.patient_pk";

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
  return x;
}

std::vector<SqlValue> LocationParams(const Location& l) {
  return {static_cast<int64_t>(l.tier == Location::Tier::kCold ? 1 : 0), l.hot_path, l.pack_key,
          static_cast<int64_t>(l.offset), static_cast<int64_t>(l.length), l.entry_checksum, l.entry_syntax};
}

class SqlCatalog : public Catalog {
 public:
  explicit SqlCatalog(std::unique_ptr<SqlDatabase> db) : db_(std::move(db)) {}

  Status Init() {
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
        if (step.version <= current) continue;
        std::string ddl = step.script;
        for (size_t p; (p = ddl.find("{PK}")) != std::string::npos;) ddl.replace(p, 4, pk);
        STRATA_RETURN_IF_ERROR(conn->ExecScript(ddl));
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

  Result<std::vector<AddResult>> AddInstances(const std::vector<InstanceRecord>& records, bool replace) override {
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

  Result<InstanceRecord> GetInstance(const std::string& sop_uid) override {
    STRATA_RETURN_IF_ERROR(ValidateUid(sop_uid, "SOPInstanceUID"));
    STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(false));
    STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query(std::string("SELECT ") + kInstanceCols + kInstanceFrom +
                                                       " WHERE i.sop_uid = ?", {sop_uid}));
    if (rows.empty()) return Status::NotFound("no instance " + sop_uid);
    return RowToInstance(rows[0]);
  }

  Result<std::vector<InstanceRecord>> ListInstances(const std::string& study_uid, const std::string& series_uid,
                                                    const std::string& sop_uid) override {
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

  Result<std::vector<AttributeValues>> Find(const Query& query) override {
    STRATA_ASSIGN_OR_RETURN(SqlQuery q, BuildFindSql(query));
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

  Result<CatalogStats> Stats() override {
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

  // ===== tiering ledger (migrations and packs tables) =====================================

  // The database's clock in unix milliseconds, as SQL: the one clock every lease is judged by.
  const char* DbNow() const {
    return db_->dialect() == SqlDialect::kPostgres
               ? "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
               : "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";
  }

  Result<std::vector<StudySummary>> StudiesToMigrate(const MigrationPolicy& policy, int64_t /*now_ms*/) override {
    std::string sql =
        "SELECT st.study_uid, st.num_instances, st.size_bytes, st.last_received_ms, st.study_date,"
        " (SELECT COUNT(*) FROM instances i WHERE i.study_pk = st.pk AND i.tier = 0)"
        " FROM studies st WHERE EXISTS (SELECT 1 FROM instances i WHERE i.study_pk = st.pk AND i.tier = 0)"
        " AND NOT EXISTS (SELECT 1 FROM migrations m WHERE m.study_uid = st.study_uid"
        "   AND m.state NOT IN ('done','failed') AND m.lease_until_ms > " + std::string(DbNow()) + ")";
    std::vector<SqlValue> params;
    if (policy.received_before_ms > 0) {
      sql += " AND st.last_received_ms < ?";
      params.emplace_back(policy.received_before_ms);
    }
    if (!policy.study_date_before.empty()) {
      sql += " AND st.study_date <> '' AND st.study_date < ?";
      params.emplace_back(policy.study_date_before);
    }
    if (!policy.study_uid.empty()) {
      STRATA_RETURN_IF_ERROR(ValidateUid(policy.study_uid, "StudyInstanceUID"));
      sql += " AND st.study_uid = ?";
      params.emplace_back(policy.study_uid);
    }
    sql += " ORDER BY st.last_received_ms LIMIT ?";
    params.emplace_back(static_cast<int64_t>(policy.limit ? policy.limit : 16));
    STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(false));
    STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query(sql, params));
    std::vector<StudySummary> out;
    for (const auto& r : rows) {
      StudySummary s;
      s.study_uid = SqlText(r[0]);
      s.instances = SqlInt(r[1]);
      s.bytes = SqlInt(r[2]);
      s.last_received_ms = SqlInt(r[3]);
      s.study_date = SqlText(r[4]);
      s.hot_instances = SqlInt(r[5]);
      s.cold_instances = s.instances - s.hot_instances;
      out.push_back(std::move(s));
    }
    return out;
  }

  Result<int64_t> ClaimMigration(const std::string& study_uid, const std::string& node, const std::string& pack_key,
                                 int64_t lease_ms) override {
    STRATA_RETURN_IF_ERROR(ValidateUid(study_uid, "StudyInstanceUID"));
    if (lease_ms <= 0) return Status::InvalidArgument("ClaimMigration: lease must be positive");
    STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(true));
    const bool pg = db_->dialect() == SqlDialect::kPostgres;
    const std::string now = DbNow();
    int64_t token = 0;
    Status s = InTransaction(*conn, [&]() -> Status {
      // On PostgreSQL the row lock makes concurrent claimers queue; SQLite has one writer.
      STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query(
          "SELECT node, state, claim_token, CASE WHEN lease_until_ms > " + now +
              " THEN 1 ELSE 0 END FROM migrations WHERE study_uid = ?" + (pg ? " FOR UPDATE" : ""),
          {study_uid}));
      if (rows.empty()) {
        token = 1;
        STRATA_ASSIGN_OR_RETURN(auto n, conn->Exec(
            "INSERT INTO migrations (study_uid, state, node, lease_until_ms, pack_key, updated_ms, error, attempts,"
            " claim_token) VALUES (?, 'claimed', ?, " + now + " + ?, ?, " + now + ", '', 1, 1)",
            {study_uid, node, lease_ms, pack_key}));
        (void)n;  // one row: the SELECT found none and we hold the write lock / unique key
        return Status::OK();
      }
      const std::string state = SqlText(rows[0][1]);
      const bool live = state != "done" && state != "failed" && SqlInt(rows[0][3]) == 1;
      // Even its own holder may not re-claim a live claim: that would un-fence a run in flight.
      if (live) return Status::Conflict("study " + study_uid + " is being migrated by " + SqlText(rows[0][0]));
      token = SqlInt(rows[0][2]) + 1;
      STRATA_ASSIGN_OR_RETURN(auto n, conn->Exec(
          "UPDATE migrations SET state = 'claimed', node = ?, lease_until_ms = " + now + " + ?, pack_key = ?,"
          " updated_ms = " + now + ", error = '', attempts = attempts + 1, claim_token = ? WHERE study_uid = ?",
          {node, lease_ms, pack_key, token, study_uid}));
      if (n != 1) return Status::Conflict("migration row of " + study_uid + " changed during the claim");
      return Status::OK();
    });
    if (!s.ok()) return s;
    return token;
  }

  Status RenewMigration(const std::string& study_uid, int64_t token, const std::string& state,
                        int64_t lease_ms) override {
    const std::string now = DbNow();
    STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(true));
    STRATA_ASSIGN_OR_RETURN(auto n, conn->Exec(
        "UPDATE migrations SET state = ?, updated_ms = " + now + ", lease_until_ms = " + now + " + ?"
        " WHERE study_uid = ? AND claim_token = ? AND state NOT IN ('done','failed','switched')"
        " AND lease_until_ms > " + now,
        {state, lease_ms, study_uid, token}));
    if (n == 0) return Status::Conflict("claim " + std::to_string(token) + " on " + study_uid + " is lost");
    return Status::OK();
  }

  Status FinishMigration(const std::string& study_uid, int64_t token, const std::string& state,
                         const std::string& error, int64_t seen_lease_until_ms) override {
    if (state != "done" && state != "failed")
      return Status::InvalidArgument("FinishMigration: state must be done or failed, not " + state);
    STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(true));
    std::string sql = "UPDATE migrations SET state = ?, error = ?, updated_ms = " + std::string(DbNow()) +
                      " WHERE study_uid = ? AND claim_token = ? AND state NOT IN ('done','failed')";
    std::vector<SqlValue> params{state, error, study_uid, token};
    if (seen_lease_until_ms > 0) {
      sql += " AND lease_until_ms = ?";
      params.emplace_back(seen_lease_until_ms);
    }
    STRATA_ASSIGN_OR_RETURN(auto n, conn->Exec(sql, params));
    if (n == 0) return Status::Conflict("claim " + std::to_string(token) + " on " + study_uid + " has moved on");
    return Status::OK();
  }

  static MigrationRecord RowToMigration(const SqlRow& r, size_t c) {
    MigrationRecord m;
    m.study_uid = SqlText(r[c]); m.state = SqlText(r[c + 1]); m.node = SqlText(r[c + 2]);
    m.lease_until_ms = SqlInt(r[c + 3]); m.pack_key = SqlText(r[c + 4]); m.updated_ms = SqlInt(r[c + 5]);
    m.error = SqlText(r[c + 6]); m.attempts = static_cast<int>(SqlInt(r[c + 7])); m.token = SqlInt(r[c + 8]);
    return m;
  }

  Result<std::vector<MigrationRecord>> ListMigrations(size_t limit) override {
    STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(false));
    STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query(
        "SELECT study_uid, state, node, lease_until_ms, pack_key, updated_ms, error, attempts, claim_token"
        " FROM migrations ORDER BY updated_ms DESC LIMIT ?", {static_cast<int64_t>(limit)}));
    std::vector<MigrationRecord> out;
    for (const auto& r : rows) out.push_back(RowToMigration(r, 0));
    return out;
  }

  Result<LedgerSnapshot> ReadLedgerSnapshot() override {
    // One statement is one snapshot in both engines (PostgreSQL's READ COMMITTED takes a
    // snapshot per statement), so claims and references are seen as of the same instant.
    const std::string now = DbNow();
    STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(false));
    STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query(
        "SELECT 'c', " + now + ", study_uid, state, node, lease_until_ms, pack_key, updated_ms, error, attempts,"
        " claim_token FROM migrations"
        " UNION ALL SELECT 'p', " + now + ", pack_key, '', '', 0, '', 0, '', 0, 0 FROM packs"
        " UNION ALL SELECT 'i', " + now + ", pack_key, '', '', 0, '', 0, '', 0, 0 FROM instances"
        "   WHERE tier = 1 GROUP BY pack_key"
        " UNION ALL SELECT 'n', " + now + ", '', '', '', 0, '', 0, '', 0, 0", {}));
    LedgerSnapshot snap;
    std::set<std::string> refs;
    for (const auto& r : rows) {
      const std::string kind = SqlText(r[0]);
      snap.db_now_ms = SqlInt(r[1]);
      if (kind == "c") snap.claims.push_back(RowToMigration(r, 2));
      else if (kind == "p" || kind == "i") refs.insert(SqlText(r[2]));
    }
    snap.referenced_packs.assign(refs.begin(), refs.end());
    return snap;
  }

  Result<std::vector<bool>> SwitchToPack(const PackRecord& pack, const MigrationFence& fence,
                                         const std::vector<std::string>& sop_uids,
                                         const std::vector<Location>& expected,
                                         const std::vector<Location>& locations,
                                         const std::vector<std::string>& retire) override {
    if (sop_uids.size() != locations.size() || sop_uids.size() != expected.size())
      return Status::InvalidArgument("SwitchToPack: mismatched vectors");
    if (fence.study_uid != pack.study_uid) return Status::InvalidArgument("SwitchToPack: fence names another study");
    for (const auto& l : locations)
      if (l.tier != Location::Tier::kCold || l.pack_key != pack.pack_key)
        return Status::InvalidArgument("SwitchToPack: every new location must be in pack " + pack.pack_key);
    const bool pg = db_->dialect() == SqlDialect::kPostgres;
    const std::string now = DbNow();
    std::vector<bool> switched;
    STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(true));
    Status s = InTransaction(*conn, [&]() -> Status {
      switched.assign(sop_uids.size(), false);
      // The fence: the row is locked (PostgreSQL) or we are the one writer (SQLite) until commit,
      // so no claim can take the study over between this check and the switch.
      STRATA_ASSIGN_OR_RETURN(auto claim, conn->Query(
          "SELECT claim_token, state, CASE WHEN lease_until_ms > " + now + " THEN 1 ELSE 0 END"
          " FROM migrations WHERE study_uid = ?" + (pg ? " FOR UPDATE" : ""), {fence.study_uid}));
      if (claim.empty()) return Status::Conflict("no claim on " + fence.study_uid);
      const std::string state = SqlText(claim[0][1]);
      if (SqlInt(claim[0][0]) != fence.token)
        return Status::Conflict("claim " + std::to_string(fence.token) + " on " + fence.study_uid +
                                " was taken over (token now " + SqlText(claim[0][0]) + ")");
      if (state != "claimed" && state != "uploaded")
        return Status::Conflict("claim on " + fence.study_uid + " is " + state + ", not switchable");
      if (SqlInt(claim[0][2]) != 1) return Status::Conflict("claim on " + fence.study_uid + " has expired");
      STRATA_ASSIGN_OR_RETURN(auto n0, conn->Exec(
          "INSERT INTO packs (pack_key, study_uid, generation, size, entries, checksum, created_ms)"
          " VALUES (?, ?, ?, ?, ?, ?, ?)",
          {pack.pack_key, pack.study_uid, pack.generation, static_cast<int64_t>(pack.size),
           static_cast<int64_t>(pack.entries), pack.checksum, pack.created_ms}));
      (void)n0;  // an INSERT either adds its row or fails the transaction (primary key)
      for (size_t k = 0; k < sop_uids.size(); ++k) {
        const Location& from = expected[k];
        const Location& to = locations[k];
        int64_t n = 0;
        if (from.tier == Location::Tier::kHot) {
          std::vector<SqlValue> params = LocationParams(to);
          params.emplace_back(sop_uids[k]);
          params.emplace_back(from.hot_path);
          STRATA_ASSIGN_OR_RETURN(n, conn->Exec(
              "UPDATE instances SET tier = ?, hot_path = ?, pack_key = ?, pack_offset = ?, pack_length = ?,"
              " entry_checksum = ?, entry_syntax = ? WHERE sop_uid = ? AND tier = 0 AND hot_path = ?", params));
        } else {
          // Cold to cold (consolidation): the hot-path trail, if any, stays for the janitor.
          STRATA_ASSIGN_OR_RETURN(n, conn->Exec(
              "UPDATE instances SET pack_key = ?, pack_offset = ?, pack_length = ?, entry_checksum = ?,"
              " entry_syntax = ? WHERE sop_uid = ? AND tier = 1 AND pack_key = ? AND pack_offset = ?",
              {to.pack_key, static_cast<int64_t>(to.offset), static_cast<int64_t>(to.length), to.entry_checksum,
               to.entry_syntax, sop_uids[k], from.pack_key, static_cast<int64_t>(from.offset)}));
        }
        switched[k] = n == 1;
      }
      for (const auto& old : retire) {
        if (old == pack.pack_key) continue;
        STRATA_ASSIGN_OR_RETURN(auto n, conn->Exec(
            "DELETE FROM packs WHERE pack_key = ? AND NOT EXISTS"
            " (SELECT 1 FROM instances WHERE pack_key = ? AND tier = 1)", {old, old}));
        (void)n;  // still referenced: the row stays and so does the object
      }
      STRATA_ASSIGN_OR_RETURN(auto n1, conn->Exec(
          "UPDATE migrations SET state = 'switched', updated_ms = " + now + " WHERE study_uid = ? AND claim_token = ?",
          {fence.study_uid, fence.token}));
      if (n1 != 1) return Status::Internal("claim row of " + fence.study_uid + " vanished inside the switch");
      return Status::OK();
    });
    if (!s.ok()) return s;
    return switched;
  }

  Result<std::vector<InstanceRecord>> ListLeftoverHotFiles(size_t limit) override {
    STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(false));
    STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query(std::string("SELECT ") + kInstanceCols + kInstanceFrom +
                                                       " WHERE i.tier = 1 AND i.hot_path <> '' LIMIT ?",
                                                   {static_cast<int64_t>(limit)}));
    std::vector<InstanceRecord> out;
    for (const auto& r : rows) out.push_back(RowToInstance(r));
    return out;
  }

  Status ClearHotPaths(const std::vector<std::string>& sop_uids) override {
    STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(true));
    return InTransaction(*conn, [&]() -> Status {
      for (const auto& sop : sop_uids) {
        STRATA_ASSIGN_OR_RETURN(auto n, conn->Exec("UPDATE instances SET hot_path = '' WHERE sop_uid = ? AND tier = 1",
                                                   {sop}));
        (void)n;  // 0 rows: the instance was replaced meanwhile; nothing to clear
      }
      return Status::OK();
    });
  }

  Result<std::vector<PackRecord>> ListPacks(const std::string& study_uid) override {
    std::string sql = "SELECT pack_key, study_uid, generation, size, entries, checksum, created_ms FROM packs";
    std::vector<SqlValue> params;
    if (!study_uid.empty()) {
      STRATA_RETURN_IF_ERROR(ValidateUid(study_uid, "StudyInstanceUID"));
      sql += " WHERE study_uid = ?";
      params.emplace_back(study_uid);
    }
    sql += " ORDER BY study_uid, generation";
    STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(false));
    STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query(sql, params));
    std::vector<PackRecord> out;
    for (const auto& r : rows) {
      PackRecord p;
      p.pack_key = SqlText(r[0]); p.study_uid = SqlText(r[1]); p.generation = SqlInt(r[2]);
      p.size = SqlInt(r[3]); p.entries = SqlInt(r[4]); p.checksum = SqlText(r[5]); p.created_ms = SqlInt(r[6]);
      out.push_back(std::move(p));
    }
    return out;
  }

  Status DeletePackRecord(const std::string& pack_key) override {
    STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(true));
    STRATA_ASSIGN_OR_RETURN(auto n, conn->Exec(
        "DELETE FROM packs WHERE pack_key = ? AND NOT EXISTS (SELECT 1 FROM instances WHERE pack_key = ? AND tier = 1)",
        {pack_key, pack_key}));
    if (n == 0) {
      STRATA_ASSIGN_OR_RETURN(uint64_t refs, CountPackReferences(pack_key));
      if (refs > 0) return Status::Conflict("pack " + pack_key + " is still referenced by " + std::to_string(refs));
    }
    return Status::OK();
  }

  Result<uint64_t> CountPackReferences(const std::string& pack_key) override {
    STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(false));
    STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query(
        "SELECT COUNT(*) FROM instances WHERE pack_key = ? AND tier = 1", {pack_key}));
    return static_cast<uint64_t>(SqlInt(rows[0][0]));
  }

 private:
  Result<AddResult> AddOne(SqlConnection& c, const InstanceRecord& r, bool replace) {
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
      params.emplace_back(inst_pk);
      STRATA_ASSIGN_OR_RETURN(auto n, c.Exec(
          "UPDATE instances SET transfer_syntax = ?, size = ?, checksum = ?, received_ms = ?, instance_number = ?,"
          " rows = ?, columns = ?, frames = ?, sop_class = ?, tier = ?, hot_path = ?, pack_key = ?, pack_offset = ?,"
          " pack_length = ?, entry_checksum = ?, entry_syntax = ?, dataset_checksum = ? WHERE pk = ?", params));
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

    // Patient: keyed by (PatientID, Issuer); demographics follow the newest instance.
    int64_t patient_pk;
    STRATA_ASSIGN_OR_RETURN(auto prow, c.Query("SELECT pk FROM patients WHERE patient_id = ? AND issuer = ?",
                                               {r.patient_id, r.issuer}));
    if (prow.empty()) {
      STRATA_ASSIGN_OR_RETURN(auto ins, c.Query(
          "INSERT INTO patients (patient_id, issuer, patient_name, patient_name_norm, birth_date, sex)"
          " VALUES (?, ?, ?, ?, ?, ?) RETURNING pk",
          {r.patient_id, r.issuer, r.patient_name, Upper(r.patient_name), r.birth_date, r.sex}));
      patient_pk = SqlInt(ins[0][0]);
    } else {
      patient_pk = SqlInt(prow[0][0]);
    }

    int64_t study_pk;
    STRATA_ASSIGN_OR_RETURN(auto srow, c.Query("SELECT pk, modalities FROM studies WHERE study_uid = ?", {r.study_uid}));
    std::string modalities;
    if (srow.empty()) {
      STRATA_ASSIGN_OR_RETURN(auto ins, c.Query(
          "INSERT INTO studies (study_uid, patient_pk, study_date, study_time, accession, study_id, description,"
          " referring, referring_norm, modalities, num_series, num_instances, size_bytes, last_received_ms)"
          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, 0, 0, ?) RETURNING pk",
          {r.study_uid, patient_pk, r.study_date, r.study_time, r.accession, r.study_id, r.study_description,
           r.referring_physician, Upper(r.referring_physician), r.received_ms}));
      study_pk = SqlInt(ins[0][0]);
    } else {
      study_pk = SqlInt(srow[0][0]);
      modalities = SqlText(srow[0][1]);
    }

    int64_t series_pk;
    bool new_series = false;
    STRATA_ASSIGN_OR_RETURN(auto serow, c.Query("SELECT pk, study_pk FROM series WHERE series_uid = ?", {r.series_uid}));
    if (serow.empty()) {
      STRATA_ASSIGN_OR_RETURN(auto ins, c.Query(
          "INSERT INTO series (series_uid, study_pk, modality, series_number, description, body_part, series_date,"
          " series_time, num_instances, size_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0) RETURNING pk",
          {r.series_uid, study_pk, r.modality, r.series_number, r.series_description, r.body_part, r.series_date,
           r.series_time}));
      series_pk = SqlInt(ins[0][0]);
      new_series = true;
    } else {
      series_pk = SqlInt(serow[0][0]);
      if (SqlInt(serow[0][1]) != study_pk)
        return Status::InvalidArgument("series " + r.series_uid + " already belongs to another study");
    }

    std::vector<SqlValue> params{r.sop_uid, series_pk, study_pk, r.sop_class_uid, r.instance_number, r.rows,
                                 r.columns, r.frames, r.transfer_syntax, static_cast<int64_t>(r.size), r.checksum,
                                 r.received_ms};
    for (auto& v : LocationParams(r.location)) params.push_back(std::move(v));
    params.emplace_back(r.dataset_checksum);
    STRATA_ASSIGN_OR_RETURN(auto n, c.Exec(
        "INSERT INTO instances (sop_uid, series_pk, study_pk, sop_class, instance_number, rows, columns, frames,"
        " transfer_syntax, size, checksum, received_ms, tier, hot_path, pack_key, pack_offset, pack_length,"
        " entry_checksum, entry_syntax, dataset_checksum)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", params));
    (void)n;
    STRATA_ASSIGN_OR_RETURN(auto n2, c.Exec(
        "UPDATE series SET num_instances = num_instances + 1, size_bytes = size_bytes + ? WHERE pk = ?",
        {static_cast<int64_t>(r.size), series_pk}));
    (void)n2;
    if (new_series && !r.modality.empty()) {
      std::set<std::string> mods;
      size_t start = 0;
      while (start <= modalities.size() && !modalities.empty()) {
        size_t p = modalities.find('\\', start);
        mods.insert(modalities.substr(start, p == std::string::npos ? std::string::npos : p - start));
        if (p == std::string::npos) break;
        start = p + 1;
      }
      mods.insert(r.modality);
      modalities.clear();
      for (const auto& m : mods) modalities += (modalities.empty() ? "" : "\\") + m;
    }
    STRATA_ASSIGN_OR_RETURN(auto n3, c.Exec(
        "UPDATE studies SET num_instances = num_instances + 1, num_series = num_series + ?, size_bytes = size_bytes + ?,"
        " last_received_ms = ?, modalities = ? WHERE pk = ?",
        {static_cast<int64_t>(new_series ? 1 : 0), static_cast<int64_t>(r.size), r.received_ms, modalities, study_pk}));
    (void)n3;
    out.outcome = AddOutcome::kAdded;
    return out;
  }

  std::unique_ptr<SqlDatabase> db_;
};

}  // namespace

const std::vector<CatalogSchemaStep>& CatalogSchemaSteps() {
  // Append new versions at the end (and raise kCatalogSchemaVersion); never edit a step.
  static const std::vector<CatalogSchemaStep> steps = {
      {1, kSchemaV1},
      {2, kSchemaV2},
      {3, kSchemaV3},
  };
  return steps;
}

Result<std::unique_ptr<Catalog>> OpenSqlCatalog(std::unique_ptr<SqlDatabase> db) {
  auto cat = std::make_unique<SqlCatalog>(std::move(db));
  STRATA_RETURN_IF_ERROR(cat->Init());
  return std::unique_ptr<Catalog>(std::move(cat));
}

}  // namespace strata
