// The converter's failure text (a Status::ToString() recorded in the migration ledger) in
// plain words for the web page: what went wrong and what happens / what to do next.
// The recorded text stays available as `detail`; nothing here changes the ledger.
#pragma once

#include <string>

namespace strata::web {

struct MigrationProblem {
  std::string summary;  // "Names in a non-UTF-8 character set could not be written..."
  std::string action;   // "The study stays on the hot tier and is retried ..."
  std::string detail;   // the recorded error, as it is
};

// ERROR as recorded for a failed migration; an empty ERROR gives an empty summary.
MigrationProblem ExplainMigrationError(const std::string& error);

}  // namespace strata::web
