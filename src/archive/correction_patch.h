// Correction patch: what a retrieval serves for an instance of a corrected study. The stored
// bytes stay the acknowledged ones; on the way out the correction records of the study
// (Catalog::ListCorrections) are applied to a parsed copy (DCMTK): each record's attribute
// gets its new value, and each change (the records sharing a change id) adds one item to the
// Original Attributes Sequence (0400,0561) holding the values the object had before it
// (Modified Attributes Sequence), Attribute Modification DateTime, Modifying System, Source of
// Previous Values (zero length: unknown) and Reason for the Attribute Modification = CORRECT,
// as PS3.3 C.12.1.1.9 describes. The data set is written back in its own transfer syntax;
// Pixel Data (native or encapsulated) is carried over as it was parsed, byte for byte.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "index/catalog.h"
#include "util/status.h"

class DcmDataset;

namespace strata {

// Applies RECORDS (oldest first) to DS. A record whose attribute already holds its new value
// changes nothing (an instance sent after the correction with the corrected values), and a
// change with nothing left adds no item. When a new value is not ASCII the data set is first
// converted to UTF-8 (Specific Character Set ISO_IR 192). Returns whether DS changed.
Result<bool> ApplyCorrections(DcmDataset* ds, const std::vector<CorrectionRecord>& records,
                              const std::string& modifying_system);

// The Part 10 file PART10 with RECORDS applied, in its own transfer syntax; PART10 itself
// (no copy of the work) when RECORDS change nothing. kInvalidArgument when the bytes cannot
// be parsed or written.
Result<std::string> PatchPart10(std::string_view part10, const std::vector<CorrectionRecord>& records,
                                const std::string& modifying_system);

}  // namespace strata
