// Receives the identifier of a C-FIND/C-GET/C-MOVE request without handing DCMTK an unbounded
// data set: DCMTK's parser recurses once per nested sequence, so a few thousand nested
// undefined-length sequences overflow an association thread's stack and take the whole
// process down. The PDVs first go into a bounded buffer (what exceeds the bound is drained
// from the association and dropped, so the association stays usable), the raw bytes are
// checked, and only then parsed.
#pragma once

#include <memory>
#include <string>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmnet/assoc.h>

#include "util/status.h"

namespace strata {

// Every nesting level of a data set needs an item (FFFE,E000), so counting item tags in the
// raw bytes bounds the depth DCMTK will recurse to, whatever the lengths say. OVERFLOWED:
// the identifier was larger than MAX_BYTES. InvalidArgument on refusal.
Status CheckIdentifierBytes(const std::string& bytes, bool overflowed, size_t max_bytes, int max_items);

// Receives the data set that follows a request command on ASSOC and parses it once it passed
// CheckIdentifierBytes. InvalidArgument: refused identifier (the association is fine);
// IOError: the association broke (BROKEN is set, the caller aborts).
Result<std::unique_ptr<DcmDataset>> ReceiveIdentifier(T_ASC_Association* assoc, T_ASC_PresentationContextID pc,
                                                      int timeout_s, size_t max_bytes, int max_items,
                                                      OFCondition* broken);

}  // namespace strata
