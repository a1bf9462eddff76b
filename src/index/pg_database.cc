#include "index/pg_database.h"

#include <libpq-fe.h>

#include <mutex>

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

class PgConnection : public SqlConnection {
 public:
  explicit PgConnection(PGconn* c) : conn_(c) {}
  ~PgConnection() override { PQfinish(conn_); }

  bool healthy() const { return PQstatus(conn_) == CONNECTION_OK; }

  Result<std::vector<SqlRow>> Query(std::string_view sql, const std::vector<SqlValue>& params) override {
    std::vector<SqlRow> rows;
    STRATA_RETURN_IF_ERROR(Run(sql, params, &rows, nullptr));
    return rows;
  }
  Result<int64_t> Exec(std::string_view sql, const std::vector<SqlValue>& params) override {
    int64_t n = 0;
    STRATA_RETURN_IF_ERROR(Run(sql, params, nullptr, &n));
    return n;
  }
  Status ExecScript(std::string_view sql) override {
    std::string s(sql);
    for (int attempt = 0;; ++attempt) {
      PGresult* res = PQexec(conn_, s.c_str());
      Status st = Check(res);
      PQclear(res);
      if (st.ok() || attempt > 0 || !Reconnect()) return st;
    }
  }
  Status Begin() override {
    STRATA_RETURN_IF_ERROR(ExecScript("BEGIN"));
    in_txn_ = true;
    return Status::OK();
  }
  Status Commit() override {
    in_txn_ = false;
    return ExecScript("COMMIT");
  }
  Status Rollback() override {
    in_txn_ = false;
    return ExecScript("ROLLBACK");
  }

 private:
  Status Check(PGresult* res) {
    ExecStatusType t = PQresultStatus(res);
    if (t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK) return Status::OK();
    std::string msg = std::string("postgres: ") + PQerrorMessage(conn_);
    const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    std::string code = state ? state : "";
    if (PQstatus(conn_) != CONNECTION_OK) return Status::Unavailable(msg);
    if (code == "23505") return Status::Conflict(msg);                 // unique_violation
    if (code == "40001" || code == "40P01") return Status::Unavailable(msg);  // retryable
    if (code == "53100") return Status::NoSpace(msg);
    return Status::IOError(msg);
  }

  // After a server restart the connection is dead: outside a transaction, reconnect once and
  // run the statement again (inside one, the caller's transaction is lost and must fail).
  bool Reconnect() {
    if (in_txn_ || PQstatus(conn_) == CONNECTION_OK) return false;
    PQreset(conn_);
    return PQstatus(conn_) == CONNECTION_OK;
  }

  Status Run(std::string_view sql, const std::vector<SqlValue>& params, std::vector<SqlRow>* rows, int64_t* changed) {
    Status st = RunOnce(sql, params, rows, changed);
    if (!st.ok() && Reconnect()) {
      if (rows) rows->clear();
      st = RunOnce(sql, params, rows, changed);
    }
    return st;
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
    PGresult* res = PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()), nullptr, values.data(),
                                 nullptr, nullptr, 0);
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
  bool in_txn_ = false;
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
        if (static_cast<PgConnection*>(c.get())->healthy()) return SqlLease(this, std::move(c), write);
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
    return SqlLease(this, std::make_unique<PgConnection>(c), write);
  }

  void Release(std::unique_ptr<SqlConnection> conn, bool) override {
    if (!static_cast<PgConnection*>(conn.get())->healthy()) return;  // dropped; reconnect later
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
