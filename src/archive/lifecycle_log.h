// The structured log fields of one lifecycle change (issue 15: "every such change is logged as
// one structured line: who, what, when, old and new values"). Delete, rejection and retention
// each write one line that ends with these fields, taken from the event the catalog recorded
// in the change's own transaction (index/catalog.h LifecycleEvent).
#pragma once

#include <cstdint>
#include <string>

#include "index/catalog.h"

namespace strata {

// MS (unix milliseconds) as ISO 8601 UTC with milliseconds: 2026-12-03T14:05:09.123Z.
std::string IsoUtcMs(int64_t ms);

// `who="W" action=A when=ISO lifecycle_id=N study=UID series=UID|- sop=UID|- patient="NAME"
// patient_id="ID" study_date=D description="TEXT" instances=N old={...} new={...}
// cause="TEXT"`; quotes and backslashes inside values are escaped, newlines become spaces.
std::string LifecycleLogFields(const LifecycleEvent& e);

}  // namespace strata
