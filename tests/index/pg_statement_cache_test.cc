// The PostgreSQL driver prepares each statement once per session (pg_database.cc): the cache
// must follow the session (a replaced session has none of the old statements), stay bounded
// under ad-hoc query shapes, and survive schema changes made by another session.
// Needs STRATA_TEST_PG_URL (scripts/pg-dev.sh starts a PostgreSQL).
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "index/pg_database.h"

namespace strata {
namespace {

class PgStatementCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* pg = std::getenv("STRATA_TEST_PG_URL");
    if (!pg) GTEST_SKIP() << "STRATA_TEST_PG_URL not set (scripts/pg-dev.sh starts a PostgreSQL)";
    auto d = OpenPostgresDatabase(pg);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    db_ = std::move(d).value();
    auto other = OpenPostgresDatabase(pg);
    ASSERT_TRUE(other.ok()) << other.status().ToString();
    other_ = std::move(other).value();
    auto lease = other_->Acquire(true);
    ASSERT_TRUE(lease.ok());
    ASSERT_TRUE((*lease)->ExecScript("DROP TABLE IF EXISTS pg_cache_t; CREATE TABLE pg_cache_t (x BIGINT);"
                                     "INSERT INTO pg_cache_t VALUES (1), (2), (3)").ok());
  }
  int64_t One(SqlConnection& c, const std::string& sql, const std::vector<SqlValue>& params) {
    auto rows = c.Query(sql, params);
    EXPECT_TRUE(rows.ok()) << sql << ": " << rows.status().ToString();
    if (!rows.ok() || rows->empty()) return -1;
    return SqlInt((*rows)[0][0]);
  }
  std::unique_ptr<SqlDatabase> db_, other_;
};

TEST_F(PgStatementCacheTest, ManyShapesOnOneSessionStayCorrect) {
  auto lease = db_->Acquire(false);
  ASSERT_TRUE(lease.ok());
  // More shapes than the cache holds: the oldest go, and come back when asked for again.
  for (int64_t k = 0; k < 600; ++k)
    ASSERT_EQ(One(**lease, "SELECT ?::bigint + " + std::to_string(k), {int64_t{1}}), 1 + k);
  for (int64_t k = 0; k < 600; k += 37)
    ASSERT_EQ(One(**lease, "SELECT ?::bigint + " + std::to_string(k), {int64_t{2}}), 2 + k);
  // Also inside a transaction.
  ASSERT_TRUE((*lease)->Begin().ok());
  for (int64_t k = 0; k < 300; ++k)
    ASSERT_EQ(One(**lease, "SELECT COUNT(*) + " + std::to_string(k) + " FROM pg_cache_t WHERE x >= ?", {int64_t{2}}),
              2 + k);
  EXPECT_TRUE((*lease)->Commit().ok());
}

TEST_F(PgStatementCacheTest, AReplacedSessionPreparesAgain) {
  auto lease = db_->Acquire(false);
  ASSERT_TRUE(lease.ok());
  const std::string q = "SELECT COUNT(*) FROM pg_cache_t WHERE x >= ?";
  ASSERT_EQ(One(**lease, q, {int64_t{1}}), 3);
  const int64_t pid = One(**lease, "SELECT pg_backend_pid()", {});
  {
    auto killer = other_->Acquire(false);
    ASSERT_TRUE(killer.ok());
    // Waits (up to 10 s) until that backend is gone.
    ASSERT_EQ(One(**killer, "SELECT COUNT(*) FROM pg_terminate_backend(?::int, 10000) t WHERE t", {pid}), 1);
  }
  // The read runs again on a new session, where no statement of the old one exists.
  EXPECT_EQ(One(**lease, q, {int64_t{2}}), 2);
  EXPECT_NE(One(**lease, "SELECT pg_backend_pid()", {}), pid);
}

TEST_F(PgStatementCacheTest, SchemaChangeByAnotherSessionKeepsStatementsWorking) {
  auto lease = db_->Acquire(false);
  ASSERT_TRUE(lease.ok());
  const std::string q = "SELECT x FROM pg_cache_t WHERE x = ?";
  ASSERT_EQ(One(**lease, q, {int64_t{3}}), 3);
  {
    auto w = other_->Acquire(true);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->ExecScript("ALTER TABLE pg_cache_t ADD COLUMN y TEXT NOT NULL DEFAULT '';"
                                 "CREATE INDEX pg_cache_t_x ON pg_cache_t (x)").ok());
  }
  EXPECT_EQ(One(**lease, q, {int64_t{3}}), 3);
}

}  // namespace
}  // namespace strata
