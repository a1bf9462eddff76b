// The DIMSE status values Strata answers with (named in dicom/dimse_status_codes.h, shared
// with the SCU side), and the mapping of Strata Status codes to them (DCMTK's STATUS_* macros
// name the same values per service).
#pragma once

#include <cstdint>

#include "dicom/dimse_status_codes.h"
#include "util/status.h"

namespace strata {

// C-STORE failure status for a failed store (PS3.4 B.2.3).
uint16_t StoreFailureStatus(const Status& s);

}  // namespace strata
