// SqlDatabase: the little a catalog needs from a SQL engine, so that one SqlCatalog serves
// SQLite and PostgreSQL alike. SQL text uses '?' placeholders; drivers translate.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "util/status.h"
#include "util/utf8.h"

namespace strata {

using SqlValue = std::variant<std::monostate, int64_t, std::string>;
using SqlRow = std::vector<SqlValue>;

// Text read back is always valid UTF-8: rows written before text was decoded at ingest may
// hold raw Latin-1 / KS X 1001 bytes, which come back in their lossless escaped form
// (util/utf8.h) so that no JSON answer, manifest or C-FIND response carries invalid UTF-8.
inline std::string SqlText(const SqlValue& v) {
  if (auto* s = std::get_if<std::string>(&v)) return EscapeInvalidUtf8(*s);
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  return {};
}
inline int64_t SqlInt(const SqlValue& v) {
  if (auto* i = std::get_if<int64_t>(&v)) return *i;
  if (auto* s = std::get_if<std::string>(&v)) {
    try { return std::stoll(*s); } catch (...) { return 0; }
  }
  return 0;
}

enum class SqlDialect { kSqlite, kPostgres };

// One connection, used by one thread at a time.
class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  // Outside a transaction a Query may be re-sent on a new session after a lost answer, so it
  // must not change anything; writes go through Exec (a lost answer: kUnknownOutcome).
  virtual Result<std::vector<SqlRow>> Query(std::string_view sql, const std::vector<SqlValue>& params) = 0;
  // Returns the number of rows changed.
  virtual Result<int64_t> Exec(std::string_view sql, const std::vector<SqlValue>& params = {}) = 0;
  // Runs several statements separated by ';' (schema scripts), no parameters.
  virtual Status ExecScript(std::string_view sql) = 0;
  virtual Status Begin() = 0;
  // OK only if the transaction is durably committed. kUnknownOutcome if the COMMIT was sent
  // and its answer was lost (it may or may not have happened); any other error: not committed.
  virtual Status Commit() = 0;
  virtual Status Rollback() = 0;
};

class SqlDatabase;

// A connection borrowed from the database; given back when destroyed.
class SqlLease {
 public:
  SqlLease(SqlDatabase* db, std::unique_ptr<SqlConnection> conn, bool write)
      : db_(db), conn_(std::move(conn)), write_(write) {}
  SqlLease(SqlLease&&) = default;
  ~SqlLease();
  SqlConnection* operator->() { return conn_.get(); }
  SqlConnection& operator*() { return *conn_; }

 private:
  SqlDatabase* db_;
  std::unique_ptr<SqlConnection> conn_;
  bool write_;
};

class SqlDatabase {
 public:
  virtual ~SqlDatabase() = default;
  virtual SqlDialect dialect() const = 0;
  // WRITE asks for the connection that may write (SQLite has one writer; Postgres any).
  virtual Result<SqlLease> Acquire(bool write) = 0;
  virtual void Release(std::unique_ptr<SqlConnection> conn, bool write) = 0;
};

inline SqlLease::~SqlLease() {
  if (db_ && conn_) db_->Release(std::move(conn_), write_);
}

// Runs FN inside a transaction on CONN; rolls back if FN or the commit fails.
// A commit whose answer was lost comes back as kUnknownOutcome and is passed through as is:
// there is nothing to roll back on a lost session, and the caller must read back before it
// acknowledges or deletes anything. Any other failure means nothing was committed.
template <typename Fn>
Status InTransaction(SqlConnection& conn, Fn&& fn) {
  STRATA_RETURN_IF_ERROR(conn.Begin());
  Status s = fn();
  if (!s.ok()) {
    (void)conn.Rollback();  // FN failed before COMMIT: the transaction cannot have committed
    return s;
  }
  s = conn.Commit();
  if (s.code() == Status::Code::kUnknownOutcome) return s;
  if (!s.ok()) (void)conn.Rollback();  // definite failure; ends a transaction the engine left open
  return s;
}

}  // namespace strata
