// PostgreSQL driver for SqlCatalog (libpq). A pool of connections; each call that fails with
// a broken connection drops it, so that nodes reconnect by themselves after a server restart.
#pragma once

#include <memory>
#include <string>

#include "index/sql_database.h"

namespace strata {

// URL: postgresql://user[:password]@host[:port]/dbname[?options] (libpq conninfo URI).
Result<std::unique_ptr<SqlDatabase>> OpenPostgresDatabase(const std::string& url);

}  // namespace strata
