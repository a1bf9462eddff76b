// The PostgreSQL driver's commit rules, with connections cut by tests/integration/faultproxy.py
// (started by the test, driven through its stdin): a COMMIT is never re-sent on another
// session, a lost answer is settled or reported kUnknownOutcome, a leaked transaction is never
// pooled. Needs STRATA_TEST_PG_URL (scripts/pg-dev.sh starts a PostgreSQL).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "index/pg_database.h"

namespace strata {
namespace {

// faultproxy.py as a child process: "port N" on start, then one command per line -> "ok".
class Proxy {
 public:
  bool Start(const std::string& host, const std::string& port) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) return false;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      close(in[1]);
      close(out[0]);
      execl("/usr/bin/python3", "python3", STRATA_FAULTPROXY, host.c_str(), port.c_str(), "--postgres",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_ = fdopen(in[1], "w");
    from_ = fdopen(out[0], "r");
    std::string line = ReadLine();
    if (line.rfind("port ", 0) != 0) return false;
    port_ = std::stoi(line.substr(5));
    return true;
  }
  ~Proxy() {
    if (to_) {
      std::fputs("quit\n", to_);
      std::fclose(to_);
    }
    if (from_) std::fclose(from_);
    if (pid_ > 0) {
      int st = 0;
      waitpid(pid_, &st, 0);
    }
  }
  std::string Do(const std::string& cmd) {
    std::fputs((cmd + "\n").c_str(), to_);
    std::fflush(to_);
    return ReadLine();
  }
  int port() const { return port_; }

 private:
  std::string ReadLine() {
    char buf[512];
    if (!std::fgets(buf, sizeof buf, from_)) return "";
    std::string s(buf);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
  }
  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
  int port_ = 0;
};

class PgCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* pg = std::getenv("STRATA_TEST_PG_URL");
    if (!pg) GTEST_SKIP() << "STRATA_TEST_PG_URL not set (scripts/pg-dev.sh starts a PostgreSQL)";
    direct_url_ = pg;
    // postgresql://user@host:port/db -> the same through the proxy.
    const size_t at = direct_url_.find('@'), colon = direct_url_.find(':', at), slash = direct_url_.find('/', at);
    ASSERT_NE(at, std::string::npos);
    ASSERT_NE(colon, std::string::npos);
    const std::string host = direct_url_.substr(at + 1, colon - at - 1);
    const std::string port = direct_url_.substr(colon + 1, slash - colon - 1);
    ASSERT_TRUE(proxy_.Start(host, port));
    proxy_url_ = direct_url_.substr(0, at + 1) + "127.0.0.1:" + std::to_string(proxy_.port()) + direct_url_.substr(slash);
    auto d = OpenPostgresDatabase(direct_url_);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    direct_ = std::move(d).value();
    ASSERT_TRUE(Script("DROP TABLE IF EXISTS pg_commit_t; CREATE TABLE pg_commit_t (x BIGINT)").ok());
    auto p = OpenPostgresDatabase(proxy_url_);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    db_ = std::move(p).value();
  }
  Status Script(const std::string& sql) {
    auto lease = direct_->Acquire(true);
    if (!lease.ok()) return lease.status();
    return (*lease)->ExecScript(sql);
  }
  // Rows with X, read on a direct connection (not through the proxy).
  int64_t Count(int64_t x) {
    auto lease = direct_->Acquire(false);
    EXPECT_TRUE(lease.ok());
    auto rows = (*lease)->Query("SELECT COUNT(*) FROM pg_commit_t WHERE x = ?", {x});
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? SqlInt((*rows)[0][0]) : -1;
  }
  Status InsertAndCommit(int64_t x) {
    auto lease = db_->Acquire(true);
    if (!lease.ok()) return lease.status();
    return InTransaction(**lease, [&]() -> Status {
      auto n = (*lease)->Exec("INSERT INTO pg_commit_t (x) VALUES (?)", {x});
      return n.ok() ? Status::OK() : n.status();
    });
  }

  Proxy proxy_;
  std::string direct_url_, proxy_url_;
  std::unique_ptr<SqlDatabase> direct_, db_;
};

// The defect: the session died inside the transaction; the old driver sent COMMIT again on
// a new session, which answered "no transaction in progress" with success.
TEST_F(PgCommitTest, CommitAfterTheSessionDiedIsNotSuccess) {
  auto lease = db_->Acquire(true);
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE((*lease)->Begin().ok());
  ASSERT_TRUE((*lease)->Exec("INSERT INTO pg_commit_t (x) VALUES (1)", {}).ok());
  ASSERT_EQ(proxy_.Do("down"), "ok");
  ASSERT_EQ(proxy_.Do("restore"), "ok");
  Status s = (*lease)->Commit();
  EXPECT_FALSE(s.ok()) << "a transaction whose session died was reported committed";
  EXPECT_NE(s.code(), Status::Code::kUnknownOutcome) << "COMMIT was never sent: the outcome is known";
  EXPECT_EQ(Count(1), 0);
  // The lease is usable again afterwards (a new session, a new transaction).
  ASSERT_TRUE((*lease)->Begin().ok());
  ASSERT_TRUE((*lease)->Exec("INSERT INTO pg_commit_t (x) VALUES (2)", {}).ok());
  EXPECT_TRUE((*lease)->Commit().ok());
  EXPECT_EQ(Count(2), 1);
}

TEST_F(PgCommitTest, CommitLostOnItsWayIsAFailure) {
  ASSERT_EQ(proxy_.Do("cut_next_commit 1 before"), "ok");
  Status s = InsertAndCommit(3);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(Count(3), 0);
}

TEST_F(PgCommitTest, CommitWhoseAnswerWasLostIsSettledByTheServer) {
  ASSERT_EQ(proxy_.Do("cut_next_commit 1 after"), "ok");
  Status s = InsertAndCommit(4);
  EXPECT_TRUE(s.ok()) << s.ToString();  // txid_status on a new session said "committed"
  EXPECT_EQ(Count(4), 1);
  EXPECT_NE(proxy_.Do("stats").find("commit_answers_dropped=1"), std::string::npos);
}

TEST_F(PgCommitTest, CommitWhoseAnswerWasLostAndCannotBeAskedIsUnknown) {
  ASSERT_EQ(proxy_.Do("cut_next_commit 1 after down"), "ok");
  Status s = InsertAndCommit(5);
  EXPECT_EQ(s.code(), Status::Code::kUnknownOutcome) << s.ToString();
  ASSERT_EQ(proxy_.Do("restore"), "ok");
  EXPECT_EQ(Count(5), 1);  // it had committed: "failed" would have been a lie too
}

// A connection given back with its transaction still open must not be pooled: the next
// BEGIN would be a no-op warning and its COMMIT would commit the leftover statements too.
TEST_F(PgCommitTest, LeakedTransactionIsNeverHandedOn) {
  {
    auto lease = db_->Acquire(true);
    ASSERT_TRUE(lease.ok());
    ASSERT_TRUE((*lease)->Begin().ok());
    ASSERT_TRUE((*lease)->Exec("INSERT INTO pg_commit_t (x) VALUES (6)", {}).ok());
  }  // released without COMMIT or ROLLBACK
  ASSERT_TRUE(InsertAndCommit(7).ok());
  EXPECT_EQ(Count(7), 1);
  EXPECT_EQ(Count(6), 0) << "a leaked transaction was committed by the next user of its session";
}

TEST_F(PgCommitTest, FailedTransactionIsReportedNotCommitted) {
  auto lease = db_->Acquire(true);
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE((*lease)->Begin().ok());
  ASSERT_TRUE((*lease)->Exec("INSERT INTO pg_commit_t (x) VALUES (8)", {}).ok());
  EXPECT_FALSE((*lease)->Exec("INSERT INTO no_such_table VALUES (1)", {}).ok());
  EXPECT_FALSE((*lease)->Commit().ok()) << "COMMIT of a failed transaction answers ROLLBACK";
  EXPECT_EQ(Count(8), 0);
  EXPECT_TRUE((*lease)->Query("SELECT 1", {}).ok());  // the session is usable again
}

// Outside transactions a read whose session died is retried on a new one.
TEST_F(PgCommitTest, ReadsSurviveADeadPooledSession) {
  {
    auto lease = db_->Acquire(false);
    ASSERT_TRUE(lease.ok());
    ASSERT_TRUE((*lease)->Query("SELECT 1", {}).ok());
  }
  ASSERT_EQ(proxy_.Do("down"), "ok");
  ASSERT_EQ(proxy_.Do("restore"), "ok");
  auto lease = db_->Acquire(false);
  ASSERT_TRUE(lease.ok());
  auto rows = (*lease)->Query("SELECT 2", {});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(SqlInt((*rows)[0][0]), 2);
}

}  // namespace
}  // namespace strata
