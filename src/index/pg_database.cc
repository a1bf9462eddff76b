#include "index/pg_database.h"

#include <libpq-fe.h>

#include <poll.h>
#include <unistd.h>

#include <mutex>
#include <unordered_map>

namespace strata {
namespace {

// '?' placeholders to $1..$n, leaving quoted literals alone.
std::string ToDollarParams(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  bool in_quote = false;
  for (char c : sql) {
    if (c == '\'') in_quote = !in_quote;
    if (c == '?' && !in_quote) {
      out += '$';
      out += std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

// Names the running server process tree: where the postmaster started and when. A transaction
// id means something only to the instance that assigned it: after a crash restart or a failover
// to a standby, ids that never reached the WAL (or the standby) are handed out again, so
// txid_status() there may describe somebody else's transaction.
constexpr const char* kServerInstanceSql =
    "coalesce(host(inet_server_addr()), 'socket') || ':' || coalesce(inet_server_port(), 0)::text || '@' || "
    "pg_postmaster_start_time()::text";

// True if a statement failed because the session is gone (as opposed to an error answer).
bool SessionLost(PGconn* c) { return PQstatus(c) != CONNECTION_OK; }

// An idle pooled session whose server went away (restart, cut) has EOF waiting on its socket:
// find that out before sending anything, so that a statement is never sent into a dead session.
bool IdleSessionAlive(PGconn* c) {
  if (PQstatus(c) != CONNECTION_OK) return false;
  pollfd p{PQsocket(c), POLLIN, 0};
  if (p.fd < 0) return false;
  int n = poll(&p, 1, 0);
  if (n < 0) return false;
  if (n == 0) return true;
  // Readable while idle: EOF, an error, or a notice; libpq tells which.
  if (!PQconsumeInput(c)) return false;
  return PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) == PQTRANS_IDLE;
}

// Rules that keep a lost answer from being reported as success:
// - Nothing that belongs to a transaction is ever sent on another session: once the session of
//   an open transaction is lost, every statement and the COMMIT fail (the server rolls back a
//   transaction whose session ended without COMMIT).
// - A COMMIT whose answer did not arrive is kUnknownOutcome unless the server, asked on a new
//   session about the transaction id, says it committed or aborted (txid_status), and that
//   server is the very instance that ran the transaction. After a restart or a failover (a
//   multi-host URL lands on the promoted standby) the id is not asked about: kUnknownOutcome,
//   and the caller reads its rows back from the server that now holds the truth.
// - A COMMIT answered by the server is judged by its answer: the "COMMIT" tag with the session
//   idle afterwards is success; an error, or the "ROLLBACK" tag of a failed transaction, is a
//   definite failure.
// - Outside transactions, a read is retried once on a new session; a write whose answer was
//   lost is kUnknownOutcome (it may have run).
class PgConnection : public SqlConnection {
 public:
  PgConnection(PGconn* c, std::string url) : conn_(c), url_(std::move(url)) {}
  ~PgConnection() override { PQfinish(conn_); }

  // May go back to the pool: alive, and no transaction left open or failed on it.
  bool reusable() const {
    return !in_txn_ && PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_IDLE;
  }
  bool alive_and_idle() { return !in_txn_ && IdleSessionAlive(conn_); }

  Result<std::vector<SqlRow>> Query(std::string_view sql, const std::vector<SqlValue>& params) override {
    std::vector<SqlRow> rows;
    STRATA_RETURN_IF_ERROR(Run(sql, params, &rows, nullptr, /*read_only=*/true));
    return rows;
  }
  Result<int64_t> Exec(std::string_view sql, const std::vector<SqlValue>& params) override {
    int64_t n = 0;
    STRATA_RETURN_IF_ERROR(Run(sql, params, nullptr, &n, /*read_only=*/false));
    return n;
  }
  Status ExecScript(std::string_view sql) override {
    std::string s(sql);
    if (in_txn_) {
      if (SessionLost(conn_)) return LostInTransaction();
      return Simple(s.c_str());
    }
    STRATA_RETURN_IF_ERROR(EnsureSession());
    Status st = Simple(s.c_str());
    if (!st.ok() && SessionLost(conn_))
      return Status::UnknownOutcome("postgres: connection lost before the answer to a script: " + st.message());
    return st;
  }

  Status Begin() override {
    if (in_txn_) return Status::Internal("postgres: BEGIN inside a transaction");
    // BEGIN changes nothing, so a BEGIN lost with its session may be sent again on a new one;
    // nothing of an earlier transaction can ride along (none is open: see Release/EnsureSession).
    // txid_current() in the same round trip names the transaction for a lost COMMIT's inquiry.
    for (int attempt = 0;; ++attempt) {
      STRATA_RETURN_IF_ERROR(EnsureSession());
      const std::string begin = std::string("BEGIN; SELECT txid_current(), ") + kServerInstanceSql;
      PGresult* res = PQexec(conn_, begin.c_str());
      Status st = Check(res);
      if (st.ok()) {
        const bool one = PQntuples(res) == 1 && PQnfields(res) == 2;
        xid_ = one ? PQgetvalue(res, 0, 0) : "";
        instance_ = one ? PQgetvalue(res, 0, 1) : "";
        pid_ = PQbackendPID(conn_);
      }
      PQclear(res);
      if (st.ok()) {
        if (PQtransactionStatus(conn_) != PQTRANS_INTRANS) {
          AbandonSession();
          return Status::Internal("postgres: BEGIN did not open a transaction");
        }
        in_txn_ = true;
        return Status::OK();
      }
      if (attempt > 0 || !SessionLost(conn_)) {
        if (!SessionLost(conn_) && PQtransactionStatus(conn_) != PQTRANS_IDLE) AbandonSession();
        return st;
      }
    }
  }

  Status Commit() override {
    if (!in_txn_) return Status::Internal("postgres: COMMIT without a transaction");
    in_txn_ = false;
    if (SessionLost(conn_))
      return Status::Unavailable("postgres: connection lost inside the transaction; it was rolled back");
    const PGTransactionStatusType before = PQtransactionStatus(conn_);
    if (before == PQTRANS_INERROR) {
      (void)Simple("ROLLBACK");  // ends the failed transaction; its outcome is already known
      return Status::IOError("postgres: the transaction failed before COMMIT; rolled back");
    }
    if (before != PQTRANS_INTRANS) {
      AbandonSession();
      return Status::Internal("postgres: COMMIT while no transaction is open on the session");
    }
    PGresult* res = PQexec(conn_, "COMMIT");
    const ExecStatusType t = PQresultStatus(res);
    const std::string tag = res ? PQcmdStatus(res) : "";
    Status st = Check(res);
    PQclear(res);
    if (t == PGRES_COMMAND_OK && tag == "COMMIT" && PQtransactionStatus(conn_) == PQTRANS_IDLE) return Status::OK();
    if (SessionLost(conn_)) return SettleLostCommit(st.message());
    if (t == PGRES_COMMAND_OK) {  // "ROLLBACK": the server refused to commit a failed transaction
      if (PQtransactionStatus(conn_) != PQTRANS_IDLE) AbandonSession();
      return Status::IOError("postgres: COMMIT answered " + tag + "; the transaction was rolled back");
    }
    if (PQtransactionStatus(conn_) != PQTRANS_IDLE) AbandonSession();
    return st;  // an error answer: PostgreSQL rolled the transaction back
  }

  Status Rollback() override {
    in_txn_ = false;
    // A lost session's transaction is rolled back by the server; an idle one has none.
    if (SessionLost(conn_) || PQtransactionStatus(conn_) == PQTRANS_IDLE) return Status::OK();
    Status st = Simple("ROLLBACK");
    if (!st.ok() || PQtransactionStatus(conn_) != PQTRANS_IDLE) AbandonSession();
    return st;
  }

 private:
  Status LostInTransaction() const {
    return Status::Unavailable("postgres: connection lost inside a transaction; it is rolled back");
  }

  // Closes a session in a state nobody should build on; the server rolls back what was open.
  void AbandonSession() {
    prepared_.clear();  // statements belong to the session
    PQfinish(conn_);
    conn_ = nullptr;  // libpq reads a null handle as CONNECTION_BAD
    broken_ = true;
  }

  // Outside transactions: a session found dead (or abandoned) is replaced before use.
  Status EnsureSession() {
    if (!broken_ && IdleSessionAlive(conn_)) return Status::OK();
    prepared_.clear();  // statements belong to the session
    PQfinish(conn_);
    conn_ = PQconnectdb(url_.c_str());
    broken_ = false;
    if (PQstatus(conn_) != CONNECTION_OK) {
      broken_ = true;
      return Status::Unavailable(std::string("postgres: reconnect failed: ") + PQerrorMessage(conn_));
    }
    PQclear(PQexec(conn_, "SET client_min_messages = warning"));
    return Status::OK();
  }

  // The COMMIT went out and its answer was lost. Ask the server, on a new session, what became
  // of the transaction. While the old backend may still be running (a half-open connection),
  // the answer can change, so it is ended first.
  Status SettleLostCommit(const std::string& why) {
    const std::string base = "postgres: connection lost before COMMIT's answer (" + why + ")";
    if (xid_.empty()) return Status::UnknownOutcome(base);
    // Bounded: the inquiry must not hang the committer on an unreachable server (the URL's own
    // connect_timeout, if any, comes later and wins).
    const char* keys[] = {"connect_timeout", "dbname", nullptr};
    const char* vals[] = {"5", url_.c_str(), nullptr};
    PGconn* q = PQconnectdbParams(keys, vals, /*expand_dbname=*/1);
    Status out = Status::UnknownOutcome(base + "; the server could not be asked: " + PQerrorMessage(q));
    bool same_instance = false;
    if (PQstatus(q) == CONNECTION_OK) {
      PGresult* r = PQexec(q, (std::string("SELECT ") + kServerInstanceSql).c_str());
      if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        const std::string now = PQgetvalue(r, 0, 0);
        same_instance = !instance_.empty() && now == instance_;
        if (!same_instance)
          out = Status::UnknownOutcome(base + "; the server that ran it (" + instance_ + ") is gone, now " + now +
                                       " (restart or failover): the caller must read back");
      }
      PQclear(r);
    }
    if (same_instance) {
      const std::string pid = std::to_string(pid_);
      for (int round = 0; round < 50; ++round) {
        const char* xp[1] = {xid_.c_str()};
        PGresult* r = PQexecParams(q, "SELECT txid_status($1::bigint)", 1, nullptr, xp, nullptr, nullptr, 0);
        std::string state;
        const bool answered = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
        if (answered && !PQgetisnull(r, 0, 0)) state = PQgetvalue(r, 0, 0);
        PQclear(r);
        if (!answered) break;
        if (state == "committed") {
          out = Status::OK();
          break;
        }
        if (state == "aborted") {
          out = Status::Unavailable(base + "; the server rolled the transaction back");
          break;
        }
        if (state != "in progress") break;  // NULL: too old to tell; stays unknown
        const char* pp[1] = {pid.c_str()};
        PQclear(PQexecParams(q, "SELECT pg_terminate_backend($1::int)", 1, nullptr, pp, nullptr, nullptr, 0));
        usleep(100 * 1000);
      }
    }
    PQfinish(q);
    return out;
  }

  Status Simple(const char* sql) {
    PGresult* res = PQexec(conn_, sql);
    Status st = Check(res);
    PQclear(res);
    return st;
  }

  Status Check(PGresult* res) {
    ExecStatusType t = PQresultStatus(res);
    if (t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK) return Status::OK();
    std::string msg = std::string("postgres: ") + PQerrorMessage(conn_);
    const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    std::string code = state ? state : "";
    if (PQstatus(conn_) != CONNECTION_OK) return Status::Unavailable(msg);
    if (code == "23505") return Status::Conflict(msg);                 // unique_violation
    if (code == "23503") return Status::Conflict(msg);  // foreign_key_violation: a parent deleted meanwhile
    if (code == "40001" || code == "40P01") return Status::Unavailable(msg);  // retryable
    if (code == "53100") return Status::NoSpace(msg);
    return Status::IOError(msg);
  }

  Status Run(std::string_view sql, const std::vector<SqlValue>& params, std::vector<SqlRow>* rows, int64_t* changed,
             bool read_only) {
    if (in_txn_) {
      if (SessionLost(conn_)) return LostInTransaction();
      return RunOnce(sql, params, rows, changed);
    }
    STRATA_RETURN_IF_ERROR(EnsureSession());
    Status st = RunOnce(sql, params, rows, changed);
    if (st.ok() || !SessionLost(conn_)) return st;
    if (!read_only)
      return Status::UnknownOutcome("postgres: connection lost before the answer to a write: " + st.message());
    if (rows) rows->clear();
    STRATA_RETURN_IF_ERROR(EnsureSession());
    return RunOnce(sql, params, rows, changed);
  }

  Status RunOnce(std::string_view sql, const std::vector<SqlValue>& params, std::vector<SqlRow>* rows,
                 int64_t* changed) {
    std::string text = ToDollarParams(sql);
    std::vector<std::string> storage(params.size());
    std::vector<const char*> values(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      if (std::holds_alternative<std::monostate>(params[i])) {
        values[i] = nullptr;
      } else {
        storage[i] = SqlText(params[i]);
        values[i] = storage[i].c_str();
      }
    }
    // Each statement is parsed (and its plan cached) once per session, not at every run: on a
    // 4-table join such as an instance lookup, planning costs ~10x the execution.
    auto it = prepared_.find(text);
    if (it == prepared_.end()) {
      if (prepared_.size() >= kMaxPrepared) {  // ad-hoc query shapes: keep the session's cache bounded
        PGresult* d = PQexec(conn_, "DEALLOCATE ALL");
        Status ds = Check(d);
        PQclear(d);
        STRATA_RETURN_IF_ERROR(ds);
        prepared_.clear();
      }
      const std::string name = "s" + std::to_string(++prepared_seq_);
      PGresult* p = PQprepare(conn_, name.c_str(), text.c_str(), static_cast<int>(params.size()), nullptr);
      Status ps = Check(p);
      PQclear(p);
      STRATA_RETURN_IF_ERROR(ps);
      it = prepared_.emplace(text, name).first;
    }
    PGresult* res = PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(params.size()), values.data(), nullptr,
                                   nullptr, 0);
    Status st = Check(res);
    if (st.ok()) {
      if (rows) {
        int nr = PQntuples(res), nc = PQnfields(res);
        rows->reserve(nr);
        for (int r = 0; r < nr; ++r) {
          SqlRow row;
          row.reserve(nc);
          for (int c = 0; c < nc; ++c) {
            if (PQgetisnull(res, r, c)) {
              row.emplace_back(std::monostate{});
              continue;
            }
            Oid type = PQftype(res, c);
            const char* v = PQgetvalue(res, r, c);
            // int8, int4, int2 come back as integers; everything else as text.
            if (type == 20 || type == 23 || type == 21) row.emplace_back(static_cast<int64_t>(std::stoll(v)));
            else row.emplace_back(std::string(v, PQgetlength(res, r, c)));
          }
          rows->push_back(std::move(row));
        }
      }
      if (changed) {
        const char* n = PQcmdTuples(res);
        *changed = (n && *n) ? std::stoll(n) : 0;
      }
    }
    PQclear(res);
    return st;
  }

  PGconn* conn_;
  const std::string url_;
  bool in_txn_ = false;
  bool broken_ = false;  // abandoned: replaced by EnsureSession before the next use
  std::string xid_;      // the open (or last) transaction's id, for SettleLostCommit
  std::string instance_; // the server instance that assigned xid_ (kServerInstanceSql)
  int pid_ = 0;          // its backend
  // SQL text ($n form) -> name of the statement prepared on this session.
  static constexpr size_t kMaxPrepared = 256;
  std::unordered_map<std::string, std::string> prepared_;
  uint64_t prepared_seq_ = 0;
};

class PgDatabase : public SqlDatabase {
 public:
  explicit PgDatabase(std::string url) : url_(std::move(url)) {}
  SqlDialect dialect() const override { return SqlDialect::kPostgres; }

  Result<SqlLease> Acquire(bool write) override {
    {
      std::lock_guard<std::mutex> lk(mu_);
      while (!pool_.empty()) {
        auto c = std::move(pool_.back());
        pool_.pop_back();
        if (static_cast<PgConnection*>(c.get())->alive_and_idle()) return SqlLease(this, std::move(c), write);
      }
    }
    PGconn* c = PQconnectdb(url_.c_str());
    if (PQstatus(c) != CONNECTION_OK) {
      std::string msg = PQerrorMessage(c);
      PQfinish(c);
      return Status::Unavailable("connect to PostgreSQL: " + msg);
    }
    PGresult* r = PQexec(c, "SET client_min_messages = warning");
    PQclear(r);
    return SqlLease(this, std::make_unique<PgConnection>(c, url_), write);
  }

  void Release(std::unique_ptr<SqlConnection> conn, bool) override {
    // Only an idle, live session goes back: one left in a transaction (open or failed) would
    // hand its statements to the next BEGIN. Closing it makes the server roll that back.
    if (!static_cast<PgConnection*>(conn.get())->reusable()) return;
    std::lock_guard<std::mutex> lk(mu_);
    if (pool_.size() < 16) pool_.push_back(std::move(conn));
  }

 private:
  std::string url_;
  std::mutex mu_;
  std::vector<std::unique_ptr<SqlConnection>> pool_;
};

}  // namespace

Result<std::unique_ptr<SqlDatabase>> OpenPostgresDatabase(const std::string& url) {
  auto db = std::make_unique<PgDatabase>(url);
  {
    STRATA_ASSIGN_OR_RETURN(auto lease, db->Acquire(true));
  }
  return std::unique_ptr<SqlDatabase>(std::move(db));
}

}  // namespace strata
