// The tiering ledger of SqlCatalog: migration claims (fenced, leased by the database clock),
// the switch of instances to packs, and the janitor's one-snapshot view.
#include <set>

#include "model/uid.h"
#include "index/sql_catalog_internal.h"

namespace strata {

const char* SqlCatalog::DbNow() const {
  return db_->dialect() == SqlDialect::kPostgres
             ? "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
             : "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";
}

Result<std::vector<StudySummary>> SqlCatalog::StudiesToMigrate(const MigrationPolicy& policy, int64_t /*now_ms*/) {
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

Result<int64_t> SqlCatalog::ClaimMigration(const std::string& study_uid, const std::string& node, const std::string& pack_key,
                               int64_t lease_ms) {
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

Status SqlCatalog::RenewMigration(const std::string& study_uid, int64_t token, const std::string& state,
                      int64_t lease_ms) {
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

Status SqlCatalog::FinishMigration(const std::string& study_uid, int64_t token, const std::string& state,
                       const std::string& error, int64_t seen_lease_until_ms) {
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

MigrationRecord SqlCatalog::RowToMigration(const SqlRow& r, size_t c) {
  MigrationRecord m;
  m.study_uid = SqlText(r[c]); m.state = SqlText(r[c + 1]); m.node = SqlText(r[c + 2]);
  m.lease_until_ms = SqlInt(r[c + 3]); m.pack_key = SqlText(r[c + 4]); m.updated_ms = SqlInt(r[c + 5]);
  m.error = SqlText(r[c + 6]); m.attempts = static_cast<int>(SqlInt(r[c + 7])); m.token = SqlInt(r[c + 8]);
  return m;
}

Result<std::vector<MigrationRecord>> SqlCatalog::ListMigrations(size_t limit) {
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(false));
  STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query(
      "SELECT study_uid, state, node, lease_until_ms, pack_key, updated_ms, error, attempts, claim_token"
      " FROM migrations ORDER BY updated_ms DESC LIMIT ?", {static_cast<int64_t>(limit)}));
  std::vector<MigrationRecord> out;
  for (const auto& r : rows) out.push_back(RowToMigration(r, 0));
  return out;
}

Result<LedgerSnapshot> SqlCatalog::ReadLedgerSnapshot() {
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

Result<std::vector<bool>> SqlCatalog::SwitchToPack(const PackRecord& pack, const MigrationFence& fence,
                                       const std::vector<std::string>& sop_uids,
                                       const std::vector<Location>& expected,
                                       const std::vector<Location>& locations,
                                       const std::vector<std::string>& retire) {
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

Result<std::vector<InstanceRecord>> SqlCatalog::ListLeftoverHotFiles(size_t limit) {
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(false));
  STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query(std::string("SELECT ") + kInstanceCols + kInstanceFrom +
                                                     " WHERE i.tier = 1 AND i.hot_path <> '' LIMIT ?",
                                                 {static_cast<int64_t>(limit)}));
  std::vector<InstanceRecord> out;
  for (const auto& r : rows) out.push_back(RowToInstance(r));
  return out;
}

Status SqlCatalog::ClearHotPaths(const std::vector<std::string>& sop_uids) {
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

Result<std::vector<PackRecord>> SqlCatalog::ListPacks(const std::string& study_uid) {
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

Status SqlCatalog::DeletePackRecord(const std::string& pack_key) {
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

Status SqlCatalog::RestorePackRecord(const PackRecord& pack) {
  STRATA_RETURN_IF_ERROR(ValidateUid(pack.study_uid, "StudyInstanceUID"));
  if (pack.pack_key.empty()) return Status::InvalidArgument("pack key is empty");
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(true));
  STRATA_ASSIGN_OR_RETURN(auto n, conn->Exec(
      "INSERT INTO packs (pack_key, study_uid, generation, size, entries, checksum, created_ms)"
      " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (pack_key) DO NOTHING",
      {pack.pack_key, pack.study_uid, pack.generation, static_cast<int64_t>(pack.size),
       static_cast<int64_t>(pack.entries), pack.checksum, pack.created_ms}));
  if (n == 0) return Status::AlreadyExists("pack " + pack.pack_key + " has a row already");
  return Status::OK();
}

Result<uint64_t> SqlCatalog::CountPackReferences(const std::string& pack_key) {
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(false));
  STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query(
      "SELECT COUNT(*) FROM instances WHERE pack_key = ? AND tier = 1", {pack_key}));
  return static_cast<uint64_t>(SqlInt(rows[0][0]));
}

}  // namespace strata
