// C-FIND in the Study Root information model over an open association (which must have
// accepted the Study Root FIND context).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "model/attributes.h"
#include "transfer/scu_association.h"

namespace strata {

using DimseKeys = std::vector<std::pair<Tag, std::string>>;  // tag, value ("" = return it)
using FindMatch = std::map<Tag, std::string>;                // what a match carried

// Queries at LEVEL ("STUDY", "SERIES", "IMAGE") with KEYS and returns every match's values
// for the KEYS tags (absent ones are left out). Unavailable (association marked broken) on a
// network failure; Internal/InvalidArgument when the peer answered with a failure status.
Result<std::vector<FindMatch>> FindStudyRoot(ScuAssociation& assoc, const std::string& level, const DimseKeys& keys);

}  // namespace strata
