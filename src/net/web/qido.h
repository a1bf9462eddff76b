// QIDO-RS (PS3.18 10.6): /studies, /series, /instances and their study/series-scoped forms,
// answered from the catalog alone. Matching keys are keywords or "ggggeeee" tags of the
// attributes Strata indexes (dicom/attributes.h), with the catalog's matching (wildcards,
// date/time ranges, UID lists — commas allowed as in PS3.18 — case-insensitive names);
// `includefield` (a list, or `all`), `limit`, `offset`; `fuzzymatching` is accepted and
// ignored with a Warning header, as is matching on known DICOM attributes Strata does not
// index. An unknown parameter is 400. Responses carry the default attributes of PS3.18 Tables
// 10.6.3-3/-4/-5 (all from the catalog), the matched and included ones, SpecificCharacterSet,
// InstanceAvailability and RetrieveURL. `includefield` of an attribute without a catalog
// column is answered from the catalog's copy of the header (at study and series level: of
// the first instance); `includefield=all` returns every catalog attribute of the level and,
// at instance level, the whole stored header (bulk data excepted).
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
  std::set<Tag> return_tags;     // indexed attributes to return
  std::set<Tag> header_tags;     // attributes without a column, returned from the header JSON
  bool whole_header = false;     // includefield=all at instance level
  std::vector<std::string> warnings;  // for Warning: 299 headers
  size_t requested_limit = 0;    // 0 = none given
};

inline constexpr size_t kQidoMaxResults = 5000;

// PARAMS as parsed from the query string (name -> value; repeated names allowed).
Result<QidoRequest> ParseQidoParams(const std::multimap<std::string, std::string>& params, const QidoScope& scope);

}  // namespace strata::web
