// SqlCatalog: the Catalog over any SqlDatabase (SQLite embedded, PostgreSQL for several
// nodes). One schema, one set of statements; the dialect only changes key types and locking.
#pragma once

#include <memory>

#include "index/catalog.h"
#include "index/sql_database.h"

namespace strata {

// Creates or migrates the schema, then returns the catalog.
Result<std::unique_ptr<Catalog>> OpenSqlCatalog(std::unique_ptr<SqlDatabase> db);

// The schema version this build writes (recorded in the schema_version table).
// v1: the first release; v3: claim_token on migrations (v2 belongs to the dataset checksum).
constexpr int kCatalogSchemaVersion = 3;

}  // namespace strata
