// SqlCatalog: the Catalog over any SqlDatabase (SQLite embedded, PostgreSQL for several
// nodes). One schema, one set of statements; the dialect only changes key types and locking.
#pragma once

#include <memory>
#include <vector>

#include "index/catalog.h"
#include "index/sql_database.h"

namespace strata {

// Creates or migrates the schema, then returns the catalog.
Result<std::unique_ptr<Catalog>> OpenSqlCatalog(std::unique_ptr<SqlDatabase> db,
                                               PnMatch pn_match = PnMatch::kExact);

// The schema version this build writes (recorded in the schema_version table): the last of
// CatalogSchemaSteps().
constexpr int kCatalogSchemaVersion = 10;

// One upgrade of the schema: the script that takes a catalog from VERSION - 1 to VERSION
// ("{PK}" stands for the dialect's auto-increment key type). Oldest first; v1 creates the
// tables. A catalog opened at an older version runs the missing steps in one transaction.
// BACKFILL, when set, runs right after the script, in that transaction: for columns whose
// values SQL cannot compute (v5's folded names).
//
// Version numbers only order the steps (gaps are allowed: a branch's step keeps its number
// when another branch's is merged before it). A step with a PROBE (a table and a column it
// adds) is applied by what it adds rather than by number: it runs whenever that column is
// missing, so a step renumbered at a merge is still applied exactly once.
struct CatalogSchemaStep {
  int version;
  const char* script;
  Status (*backfill)(SqlConnection& conn) = nullptr;
  const char* probe_table = nullptr;
  const char* probe_column = nullptr;
};
const std::vector<CatalogSchemaStep>& CatalogSchemaSteps();

}  // namespace strata
