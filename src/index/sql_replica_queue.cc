// The replica backup queue part of SqlCatalog (tiering/replicator.h): which packs still need a
// verified copy in the replica store, with their retry schedule. Times are the database's
// clock, like the migration leases, so every node judges "due" alike.
#include "index/sql_catalog_internal.h"

namespace strata {

// v8: one row per pack row, kept after the copy was verified ("replicated").
const char* ReplicaSchemaV8() {
  return "CREATE TABLE IF NOT EXISTS replica_queue (pack_key TEXT PRIMARY KEY, study_uid TEXT NOT NULL,"
         " state TEXT NOT NULL DEFAULT 'pending', attempts BIGINT NOT NULL DEFAULT 0,"
         " next_attempt_ms BIGINT NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',"
         " queued_ms BIGINT NOT NULL DEFAULT 0, replicated_ms BIGINT NOT NULL DEFAULT 0);"
         "CREATE INDEX IF NOT EXISTS replica_queue_due ON replica_queue (state, next_attempt_ms)";
}

namespace {
constexpr const char* kTaskCols =
    "q.pack_key, q.study_uid, p.size, p.checksum, q.state, q.attempts, q.next_attempt_ms, q.last_error,"
    " q.queued_ms, q.replicated_ms";

ReplicaTask RowToTask(const SqlRow& r) {
  ReplicaTask t;
  t.pack_key = SqlText(r[0]);
  t.study_uid = SqlText(r[1]);
  t.size = static_cast<uint64_t>(SqlInt(r[2]));
  t.checksum = SqlText(r[3]);
  t.state = SqlText(r[4]);
  t.attempts = SqlInt(r[5]);
  t.next_attempt_ms = SqlInt(r[6]);
  t.last_error = SqlText(r[7]);
  t.queued_ms = SqlInt(r[8]);
  t.replicated_ms = SqlInt(r[9]);
  return t;
}
}  // namespace

Result<uint64_t> SqlCatalog::QueueUnreplicatedPacks(std::vector<std::string>* gone) {
  const std::string now = DbNow();
  uint64_t queued = 0;
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(true));
  Status s = InTransaction(*conn, [&]() -> Status {
    if (gone) gone->clear();
    STRATA_ASSIGN_OR_RETURN(auto n, conn->Exec(
        "INSERT INTO replica_queue (pack_key, study_uid, queued_ms) SELECT p.pack_key, p.study_uid, " + now +
        " FROM packs p WHERE NOT EXISTS (SELECT 1 FROM replica_queue q WHERE q.pack_key = p.pack_key)", {}));
    // A retired pack's replica copy goes only once its study has no pack still pending: until
    // the consolidated or compacted pack is replicated, the old copies are the study's backup.
    STRATA_ASSIGN_OR_RETURN(auto old, conn->Query(
        "SELECT pack_key FROM replica_queue q WHERE NOT EXISTS (SELECT 1 FROM packs p WHERE p.pack_key = q.pack_key)"
        " AND NOT EXISTS (SELECT 1 FROM replica_queue w JOIN packs wp ON wp.pack_key = w.pack_key"
        "   WHERE w.study_uid = q.study_uid AND w.state = 'pending')",
        {}));
    for (const auto& r : old) {
      STRATA_ASSIGN_OR_RETURN(auto d, conn->Exec("DELETE FROM replica_queue WHERE pack_key = ?", {r[0]}));
      (void)d;
      if (gone) gone->push_back(SqlText(r[0]));
    }
    queued = static_cast<uint64_t>(n);
    return Status::OK();
  });
  if (!s.ok()) return s;
  return queued;
}

Result<std::vector<ReplicaTask>> SqlCatalog::ReplicaTasksDue(size_t limit) {
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(false));
  STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query(
      std::string("SELECT ") + kTaskCols + " FROM replica_queue q JOIN packs p ON p.pack_key = q.pack_key"
      " WHERE q.state = 'pending' AND q.next_attempt_ms <= " + DbNow() +
      " ORDER BY q.queued_ms, q.pack_key LIMIT ?", {static_cast<int64_t>(limit == 0 ? 1000000 : limit)}));
  std::vector<ReplicaTask> out;
  for (const auto& r : rows) out.push_back(RowToTask(r));
  return out;
}

Status SqlCatalog::FinishReplicaTask(const std::string& pack_key, const std::string& error, int64_t retry_in_ms) {
  const std::string now = DbNow();
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(true));
  int64_t changed = 0;
  Status s = InTransaction(*conn, [&]() -> Status {
    Result<int64_t> n = error.empty()
        ? conn->Exec("UPDATE replica_queue SET state = 'replicated', last_error = '', replicated_ms = " + now +
                     ", attempts = attempts + 1 WHERE pack_key = ?", {pack_key})
        : conn->Exec("UPDATE replica_queue SET attempts = attempts + 1, last_error = ?, next_attempt_ms = " + now +
                     " + ? WHERE pack_key = ?", {error.substr(0, 1000), retry_in_ms, pack_key});
    if (!n.ok()) return n.status();
    changed = n.value();
    return Status::OK();
  });
  if (!s.ok()) return s;
  if (changed == 0) return Status::NotFound("no replica task for pack " + pack_key);
  return Status::OK();
}

Result<ReplicaQueueStats> SqlCatalog::GetReplicaQueueStats() {
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(false));
  ReplicaQueueStats st;
  STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query(
      "SELECT q.state, CASE WHEN q.attempts > 0 THEN 1 ELSE 0 END, COUNT(*), COALESCE(SUM(p.size), 0)"
      " FROM replica_queue q JOIN packs p ON p.pack_key = q.pack_key GROUP BY 1, 2", {}));
  for (const auto& r : rows) {
    const uint64_t n = static_cast<uint64_t>(SqlInt(r[2])), bytes = static_cast<uint64_t>(SqlInt(r[3]));
    if (SqlText(r[0]) == "replicated") {
      st.replicated += n;
      st.replicated_bytes += bytes;
    } else {
      st.pending += n;
      st.pending_bytes += bytes;
      if (SqlInt(r[1]) == 1) st.failing += n;
    }
  }
  // A study is replicated once every pack row it has is (its hot instances are not packs yet).
  STRATA_ASSIGN_OR_RETURN(auto studies, conn->Query(
      "SELECT p.study_uid, MIN(CASE WHEN q.state = 'replicated' THEN 1 ELSE 0 END)"
      " FROM packs p LEFT JOIN replica_queue q ON q.pack_key = p.pack_key GROUP BY p.study_uid", {}));
  for (const auto& r : studies) {
    ++st.studies;
    if (SqlInt(r[1]) == 1) ++st.studies_replicated;
  }
  STRATA_ASSIGN_OR_RETURN(auto err, conn->Query(
      "SELECT last_error FROM replica_queue WHERE state = 'pending' AND last_error <> ''"
      " ORDER BY next_attempt_ms DESC LIMIT 1", {}));
  if (!err.empty()) st.last_error = SqlText(err[0][0]);
  return st;
}

Result<std::vector<ReplicaTask>> SqlCatalog::ListReplicaTasks(const std::string& study_uid, size_t limit) {
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(false));
  std::string sql = std::string("SELECT ") + kTaskCols + " FROM replica_queue q JOIN packs p ON p.pack_key = q.pack_key";
  std::vector<SqlValue> params;
  if (!study_uid.empty()) {
    sql += " WHERE q.study_uid = ?";
    params.emplace_back(study_uid);
  }
  sql += " ORDER BY q.pack_key LIMIT ?";
  params.emplace_back(static_cast<int64_t>(limit == 0 ? 1000000000 : limit));
  STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query(sql, params));
  std::vector<ReplicaTask> out;
  for (const auto& r : rows) out.push_back(RowToTask(r));
  return out;
}

}  // namespace strata
