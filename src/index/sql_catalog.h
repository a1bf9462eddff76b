// SqlCatalog: the Catalog over any SqlDatabase (SQLite embedded, PostgreSQL for several
// nodes). One schema, one set of statements; the dialect only changes key types and locking.
#pragma once

#include <memory>
#include <vector>

#include "index/catalog.h"
#include "index/sql_database.h"

namespace strata {

// Creates or migrates the schema, then returns the catalog.
Result<std::unique_ptr<Catalog>> OpenSqlCatalog(std::unique_ptr<SqlDatabase> db);

// The schema version this build writes (recorded in the schema_version table): the last of
// CatalogSchemaSteps().
constexpr int kCatalogSchemaVersion = 8;

// One upgrade of the schema: the script that takes a catalog from VERSION - 1 to VERSION
// ("{PK}" stands for the dialect's auto-increment key type). Oldest first; v1 creates the
// tables. A catalog opened at an older version runs the missing steps in one transaction.
struct CatalogSchemaStep {
  int version;
  const char* script;
};
const std::vector<CatalogSchemaStep>& CatalogSchemaSteps();

}  // namespace strata
