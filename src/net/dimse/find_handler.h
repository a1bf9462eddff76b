// Translates C-FIND identifiers to catalog Queries and catalog matches back to identifiers.
#pragma once

#include <string>
#include <vector>

#include <dcmtk/dcmdata/dcdatset.h>

#include "model/records.h"
#include "util/status.h"

namespace strata {

enum class QueryRoot { kPatient, kStudy };

// Reads QueryRetrieveLevel and the matching keys (decoded to UTF-8 from the identifier's
// Specific Character Set); checks the level exists in ROOT.
Result<Query> IdentifierToQuery(DcmDataset* identifier, QueryRoot root);
// A response identifier: every attribute the request asked for, filled from MATCH where
// Strata knows the value (unknown ones are returned empty, as PS3.4 allows; binary numbers
// such as Rows or Bits Allocated as numbers; the Request Attributes Sequence with its items,
// other sequences empty). Text is in the
// request's Specific Character Set when it sent one and every value fits it, else UTF-8
// labelled ISO_IR 192 (left unlabelled when the request had none and all is ASCII).
DcmDataset* MatchToIdentifier(DcmDataset* request, const AttributeValues& match, QueryLevel level);
// UIDs named by a C-MOVE/C-GET identifier: study, series, instance (each may be a list).
struct RetrieveKeys {
  QueryLevel level = QueryLevel::kStudy;
  std::vector<std::string> study_uids, series_uids, sop_uids;
  std::string patient_id;
};
Result<RetrieveKeys> IdentifierToRetrieveKeys(DcmDataset* identifier, QueryRoot root);

}  // namespace strata
