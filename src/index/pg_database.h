// PostgreSQL driver for SqlCatalog (libpq). A pool of connections; each call that fails with
// a broken connection drops it, so that nodes reconnect by themselves after a server restart
// or a failover.
#pragma once

#include <memory>
#include <string>

#include "index/sql_database.h"

namespace strata {

// URL: postgresql://user[:password]@host[:port]/dbname[?options] (libpq conninfo URI). Several
// hosts (postgresql://u@h1:p1,h2:p2/db?target_session_attrs=read-write) give failover: every
// new session goes to whichever host takes writes now, so after the primary dies and a standby
// is promoted, the pool's next sessions reach the new primary. A COMMIT lost in the switch is
// kUnknownOutcome (see pg_database.cc), never guessed.
Result<std::unique_ptr<SqlDatabase>> OpenPostgresDatabase(const std::string& url);

}  // namespace strata
