// The DIMSE status values Strata answers with, and the mapping of Strata Status codes to
// them, in one place (DCMTK's STATUS_* macros name the same values per service).
#pragma once

#include <cstdint>

#include "util/status.h"

namespace strata {

// C-STORE (PS3.4 B.2.3).
constexpr uint16_t kStoreOutOfResources = 0xA700;    // Refused: Out of Resources
constexpr uint16_t kStoreCannotUnderstand = 0xC000;  // Error: Cannot understand
constexpr uint16_t kStoreElementsDiscarded = 0xB006; // Warning: elements discarded, instance kept
constexpr uint16_t kProcessingFailure = 0x0110;      // the general failure (PS3.7 C.4)

// C-GET and C-MOVE share these values (PS3.4 C.4.2.1.5, C.4.3.1.4).
constexpr uint16_t kRetrieveIdentifierDoesNotMatch = 0xA900;    // Error: identifier does not match SOP Class
constexpr uint16_t kRetrieveUnableToProcess = 0xC000;           // Failed: unable to process
constexpr uint16_t kRetrieveNoSubOperationSucceeded = 0xA702;   // Refused: unable to perform sub-operations
constexpr uint16_t kRetrieveSomeSubOperationsFailed = 0xB000;   // Warning: one or more failures
constexpr uint16_t kMoveDestinationUnknown = 0xA801;            // Refused: Move Destination unknown

// Storage commitment failure reasons (PS3.4 J.3.2.1.1.3).
constexpr uint16_t kCommitNoSuchObjectInstance = 0x0112;
constexpr uint16_t kCommitClassInstanceConflict = 0x0119;  // stored under another SOP class

// C-STORE failure status for a failed store (PS3.4 B.2.3).
uint16_t StoreFailureStatus(const Status& s);

}  // namespace strata
