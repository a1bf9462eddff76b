// IOCM rejection notes (PS3.4 KK, PS3.16 CID 7011): a Key Object Selection Document whose
// Concept Name is 113001, 113037, 113038 or 113039 (DCM) rejects the instances its Current
// Requested Procedure Evidence Sequence references. Archive::StoreFile recognises one on
// arrival (by C-STORE or STOW-RS), stores it like any instance and records the rejection;
// the rejected instances are then hidden (Catalog::Find, Archive::Locate) and refused when
// sent again, until the grace-period policy deletes them (Archive::DeleteRejected).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "index/catalog.h"
#include "util/status.h"

namespace strata {

inline constexpr const char* kKeyObjectSelectionSopClass = "1.2.840.10008.5.1.4.1.1.88.59";

// The rejection codes of CID 7011 and their meanings; nullptr if CODE is none of them.
const char* RejectionReasonMeaning(const std::string& code);

struct RejectionNote {
  std::string note_sop_uid;   // the KOS itself
  std::string reason_code;    // e.g. 113001
  std::vector<RejectionRecord> rejected;  // one per referenced instance (rejected_ms unset)
};

// Reads the Part 10 file at PATH. nullopt if it is not a KOS whose Concept Name is a CID 7011
// rejection code (an ordinary KOS); InvalidArgument if it is a rejection note that names no
// instance, or a referenced UID is malformed (the note is then refused, not half applied).
Result<std::optional<RejectionNote>> ReadRejectionNote(const std::string& path);

}  // namespace strata
