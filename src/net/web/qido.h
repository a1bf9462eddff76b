// QIDO-RS (PS3.18 10.6): /studies, /series, /instances and their study/series-scoped forms,
// answered from the catalog alone. Matching keys are keywords or "ggggeeee" tags of the
// attributes Strata indexes (dicom/attributes.h), with the catalog's matching (wildcards,
// date/time ranges, UID lists — commas allowed as in PS3.18 — case-insensitive names);
// `includefield` (a list, or `all`), `limit`, `offset`; `fuzzymatching` is accepted and
// ignored with a Warning header, as are known DICOM attributes Strata does not index. An
// unknown parameter is 400. Responses carry the PS3.18 default attributes Strata has, the
// matched and included ones, SpecificCharacterSet, InstanceAvailability and RetrieveURL.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "model/records.h"
#include "util/status.h"

namespace strata::web {

struct QidoScope {
  QueryLevel level = QueryLevel::kStudy;
  std::string study_uid;   // /studies/{s}/...
  std::string series_uid;  // /studies/{s}/series/{se}/instances
};

struct QidoRequest {
  Query query;                   // keys, limit (already capped), offset
  std::set<Tag> return_tags;     // attributes to return
  std::vector<std::string> warnings;  // for Warning: 299 headers
  size_t requested_limit = 0;    // 0 = none given
};

inline constexpr size_t kQidoMaxResults = 5000;

// PARAMS as parsed from the query string (name -> value; repeated names allowed).
Result<QidoRequest> ParseQidoParams(const std::multimap<std::string, std::string>& params, const QidoScope& scope);

}  // namespace strata::web
