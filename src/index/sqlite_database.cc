#include "index/sqlite_database.h"

#include <sqlite3.h>

#include <mutex>
#include <unordered_map>

namespace strata {
namespace {

class SqliteConnection : public SqlConnection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    for (auto& [_, st] : cache_) sqlite3_finalize(st);
    sqlite3_close_v2(db_);
  }

  Result<std::vector<SqlRow>> Query(std::string_view sql, const std::vector<SqlValue>& params) override {
    std::vector<SqlRow> rows;
    STRATA_RETURN_IF_ERROR(Run(sql, params, &rows));
    return rows;
  }
  Result<int64_t> Exec(std::string_view sql, const std::vector<SqlValue>& params) override {
    STRATA_RETURN_IF_ERROR(Run(sql, params, nullptr));
    return static_cast<int64_t>(sqlite3_changes64(db_));
  }
  Status ExecScript(std::string_view sql) override {
    char* err = nullptr;
    std::string s(sql);
    if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown";
      sqlite3_free(err);
      return Status::IOError("sqlite: " + msg);
    }
    return Status::OK();
  }
  // IMMEDIATE takes the write lock up front, so two writers never deadlock on upgrade.
  Status Begin() override { return ExecScript("BEGIN IMMEDIATE"); }
  // A COMMIT that fails with an I/O error may have left its commit frame in the WAL (say the
  // write went through and the fsync failed): after a crash, recovery can find it committed.
  // That is an unknown outcome, not a failure. Other errors (BUSY, FULL...) commit nothing.
  Status Commit() override {
    Status s = ExecScript("COMMIT");
    if (s.ok()) return s;
    const int code = sqlite3_extended_errcode(db_);
    // SQLite may or may not have rolled back by itself; ending it here is harmless either way.
    if (!sqlite3_get_autocommit(db_)) (void)ExecScript("ROLLBACK");
    if ((code & 0xff) == SQLITE_IOERR)
      return Status::UnknownOutcome("sqlite: COMMIT failed with an I/O error (" + std::to_string(code) +
                                    "); it may be durable: " + s.message());
    return s;
  }
  Status Rollback() override { return ExecScript("ROLLBACK"); }

 private:
  Status Error(const char* what) {
    int code = sqlite3_errcode(db_);
    std::string msg = std::string("sqlite ") + what + ": " + sqlite3_errmsg(db_);
    if (code == SQLITE_FULL) return Status::NoSpace(msg);
    if (code == SQLITE_CONSTRAINT) return Status::Conflict(msg);
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED) return Status::Unavailable(msg);
    if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) return Status::Corruption(msg);
    return Status::IOError(msg);
  }

  Status Run(std::string_view sql, const std::vector<SqlValue>& params, std::vector<SqlRow>* rows) {
    std::string key(sql);
    sqlite3_stmt* st = nullptr;
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      st = it->second;
    } else {
      if (sqlite3_prepare_v3(db_, key.c_str(), static_cast<int>(key.size()), SQLITE_PREPARE_PERSISTENT,
                             &st, nullptr) != SQLITE_OK)
        return Error("prepare");
      if (cache_.size() > 256) {  // ad-hoc query shapes: keep the cache bounded
        for (auto& [_, old] : cache_) sqlite3_finalize(old);
        cache_.clear();
      }
      cache_.emplace(key, st);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i + 1);
      const SqlValue& v = params[i];
      if (auto* s = std::get_if<std::string>(&v))
        sqlite3_bind_text(st, idx, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
      else if (auto* n = std::get_if<int64_t>(&v))
        sqlite3_bind_int64(st, idx, *n);
      else
        sqlite3_bind_null(st, idx);
    }
    for (;;) {
      int rc = sqlite3_step(st);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        Status s = Error("step");
        sqlite3_reset(st);
        return s;
      }
      if (rows) {
        int n = sqlite3_column_count(st);
        SqlRow row;
        row.reserve(n);
        for (int c = 0; c < n; ++c) {
          switch (sqlite3_column_type(st, c)) {
            case SQLITE_NULL: row.emplace_back(std::monostate{}); break;
            case SQLITE_INTEGER: row.emplace_back(static_cast<int64_t>(sqlite3_column_int64(st, c))); break;
            default: {
              const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
              row.emplace_back(std::string(t ? t : "", static_cast<size_t>(sqlite3_column_bytes(st, c))));
            }
          }
        }
        rows->push_back(std::move(row));
      }
    }
    sqlite3_reset(st);
    return Status::OK();
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

class SqliteDatabase : public SqlDatabase {
 public:
  explicit SqliteDatabase(std::string path) : path_(std::move(path)) {}
  SqlDialect dialect() const override { return SqlDialect::kSqlite; }

  Result<std::unique_ptr<SqlConnection>> Connect() {
    sqlite3* db = nullptr;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path_.c_str(), &db, flags, nullptr) != SQLITE_OK) {
      std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close_v2(db);
      return Status::IOError("open sqlite " + path_ + ": " + msg);
    }
    sqlite3_busy_timeout(db, 30000);
    auto conn = std::make_unique<SqliteConnection>(db);
    STRATA_RETURN_IF_ERROR(conn->ExecScript(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
        "PRAGMA case_sensitive_like=ON; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"));
    return std::unique_ptr<SqlConnection>(std::move(conn));
  }

  Result<SqlLease> Acquire(bool write) override {
    if (write) {
      writer_mu_.lock();  // released in Release()
      if (!writer_) {
        auto c = Connect();
        if (!c.ok()) {
          writer_mu_.unlock();
          return c.status();
        }
        writer_ = std::move(c).value();
      }
      return SqlLease(this, std::move(writer_), true);
    }
    {
      std::lock_guard<std::mutex> lk(pool_mu_);
      if (!readers_.empty()) {
        auto c = std::move(readers_.back());
        readers_.pop_back();
        return SqlLease(this, std::move(c), false);
      }
    }
    STRATA_ASSIGN_OR_RETURN(auto c, Connect());
    return SqlLease(this, std::move(c), false);
  }

  void Release(std::unique_ptr<SqlConnection> conn, bool write) override {
    if (write) {
      writer_ = std::move(conn);
      writer_mu_.unlock();
      return;
    }
    std::lock_guard<std::mutex> lk(pool_mu_);
    if (readers_.size() < 16) readers_.push_back(std::move(conn));
  }

 private:
  std::string path_;
  std::mutex writer_mu_;
  std::unique_ptr<SqlConnection> writer_;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<SqlConnection>> readers_;
};

}  // namespace

Result<std::unique_ptr<SqlDatabase>> OpenSqliteDatabase(const std::string& path) {
  auto db = std::make_unique<SqliteDatabase>(path);
  {
    STRATA_ASSIGN_OR_RETURN(auto lease, db->Acquire(true));  // fail early on a bad path
  }
  return std::unique_ptr<SqlDatabase>(std::move(db));
}

}  // namespace strata
