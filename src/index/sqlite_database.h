// SQLite driver for SqlCatalog: one writer connection and a pool of readers over one file in
// WAL mode (readers never block the writer). synchronous=FULL: a commit is on disk when it
// returns, which is what lets the archive answer C-STORE success after it.
#pragma once

#include <memory>
#include <string>

#include "index/sql_database.h"

namespace strata {

Result<std::unique_ptr<SqlDatabase>> OpenSqliteDatabase(const std::string& path);

}  // namespace strata
