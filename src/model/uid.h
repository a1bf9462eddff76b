// UID validation. Every UID is checked here before it touches a path, a query or an object
// key: PS3.5 §9.1 says a UID is 1..64 chars of digits and dots, components without leading
// zeros (except "0" itself), no empty components.
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace strata {

// OK if UID is a well-formed DICOM UID; InvalidArgument with the reason otherwise.
Status ValidateUid(std::string_view uid, std::string_view what = "UID");
inline bool IsValidUid(std::string_view uid) { return ValidateUid(uid).ok(); }
// Strips the trailing NUL/space padding a UI value may carry on the wire (nothing else: a
// leading or inner space stays, and ValidateUid refuses it).
std::string TrimUid(std::string_view uid);

}  // namespace strata
