// Translates C-FIND identifiers to catalog Queries and catalog matches back to identifiers.
#pragma once

#include <string>
#include <vector>

#include <dcmtk/dcmdata/dcdatset.h>

#include "model/records.h"
#include "util/status.h"

namespace strata {

enum class QueryRoot { kPatient, kStudy };

// Reads QueryRetrieveLevel and the matching keys; checks the level exists in ROOT.
Result<Query> IdentifierToQuery(DcmDataset* identifier, QueryRoot root);
// A response identifier: every attribute the request asked for, filled from MATCH where
// Strata knows the value (unknown ones are returned empty, as PS3.4 allows).
DcmDataset* MatchToIdentifier(DcmDataset* request, const AttributeValues& match, QueryLevel level);
// UIDs named by a C-MOVE/C-GET identifier: study, series, instance (each may be a list).
struct RetrieveKeys {
  QueryLevel level = QueryLevel::kStudy;
  std::vector<std::string> study_uids, series_uids, sop_uids;
  std::string patient_id;
};
Result<RetrieveKeys> IdentifierToRetrieveKeys(DcmDataset* identifier, QueryRoot root);

}  // namespace strata
