// Mapping of Strata Status codes to DIMSE status values, in one place.
#pragma once

#include <cstdint>

#include "util/status.h"

namespace strata {

// C-STORE failure status for a failed store (PS3.4 B.2.3).
uint16_t StoreFailureStatus(const Status& s);

}  // namespace strata
