#include "index/catalog.h"

#include "index/sql_catalog.h"
#include "index/sqlite_database.h"

namespace strata {

// Defined in pg_database.cc when libpq is available.
Result<std::unique_ptr<SqlDatabase>> OpenPostgresDatabase(const std::string& url);

Result<PnMatch> ParsePnMatch(const std::string& name) {
  if (name == "exact") return PnMatch::kExact;
  if (name == "insensitive") return PnMatch::kInsensitive;
  return Status::InvalidArgument("query.pn_match must be exact or insensitive, not '" + name.substr(0, 100) + "'");
}

Result<uint64_t> Catalog::Count(const Query& query) {
  Query all = query;
  all.limit = 0;
  all.offset = 0;
  all.with_header = false;
  STRATA_ASSIGN_OR_RETURN(auto rows, Find(all));
  return static_cast<uint64_t>(rows.size());
}

Result<std::unique_ptr<Catalog>> OpenCatalog(const CatalogOptions& options) {
  const std::string& url = options.url;
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    STRATA_ASSIGN_OR_RETURN(auto db, OpenPostgresDatabase(url));
    return OpenSqlCatalog(std::move(db), options.pn_match);
  }
  std::string path = url.rfind("sqlite:", 0) == 0 ? url.substr(7) : url;
  if (path.empty()) return Status::InvalidArgument("empty catalog path");
  STRATA_ASSIGN_OR_RETURN(auto db, OpenSqliteDatabase(path));
  return OpenSqlCatalog(std::move(db), options.pn_match);
}

}  // namespace strata
