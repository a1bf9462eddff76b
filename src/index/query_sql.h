// Turns a Query (C-FIND / QIDO-RS keys) into one SQL SELECT over the catalog schema.
// Matching rules are PS3.4 C.2.2.2: single value, wildcard (* ?), UID list, date/time range;
// an empty key is universal matching. Person names match as PN_MATCH says (index/catalog.h):
// ASCII case-insensitively, or case- and accent-insensitively on the folded columns.
#pragma once

#include <string>
#include <vector>

#include "model/attributes.h"
#include "model/records.h"
#include "index/catalog.h"
#include "index/sql_database.h"
#include "util/status.h"

namespace strata {

struct SqlQuery {
  std::string sql;
  std::vector<SqlValue> params;
  // The attribute each selected column holds, in order.
  std::vector<const AttributeDef*> columns;
  // SELECT COUNT(*) of the same matches (no limit, offset or order); its parameters are the
  // first COUNT_PARAMS of PARAMS.
  std::string count_sql;
  size_t count_params = 0;
};

// InvalidArgument for keys that cannot be matched (e.g. a malformed UID in a UID list or a
// malformed date range).
Result<SqlQuery> BuildFindSql(const Query& query, PnMatch pn_match = PnMatch::kExact);

// "*"/"?" wildcard to a LIKE pattern with '!' as the escape character.
std::string WildcardToLike(const std::string& pattern);
bool HasWildcard(const std::string& value);

}  // namespace strata
