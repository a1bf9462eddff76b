// The DIMSE status values (PS3.7 Annex C, PS3.4 per service) Strata answers with or reads in
// a peer's response, named once. The server (net/dimse/dimse_status.h adds the mapping of a
// Strata Status to a C-STORE failure) and the SCU side (transfer/store_status.h) both use
// these; no other file spells a status as a number. Constant data only.
#pragma once

#include <cstdint>

namespace strata {

// General (PS3.7 C.1-C.5).
constexpr uint16_t kStatusSuccess = 0x0000;
constexpr uint16_t kStatusWarning = 0x0001;                 // generic warning
constexpr uint16_t kStatusAttributeListError = 0x0107;      // warning
constexpr uint16_t kProcessingFailure = 0x0110;             // the general failure
constexpr uint16_t kStatusDuplicateSopInstance = 0x0111;
constexpr uint16_t kStatusAttributeValueOutOfRange = 0x0116;  // warning
constexpr uint16_t kStatusInvalidObjectInstance = 0x0117;
constexpr uint16_t kStatusSopClassNotSupported = 0x0122;
constexpr uint16_t kStatusNotAuthorized = 0x0124;           // Refused: Not Authorized
constexpr uint16_t kStatusDuplicateInvocation = 0x0210;
constexpr uint16_t kStatusUnrecognizedOperation = 0x0211;
constexpr uint16_t kStatusMistypedArgument = 0x0212;
constexpr uint16_t kStatusCancel = 0xFE00;

// C-STORE (PS3.4 B.2.3).
constexpr uint16_t kStoreOutOfResources = 0xA700;     // Refused: Out of Resources (A7xx)
constexpr uint16_t kStoreDataSetDoesNotMatch = 0xA900;  // Error: data set does not match SOP Class (A9xx)
constexpr uint16_t kStoreCannotUnderstand = 0xC000;   // Error: Cannot understand (Cxxx)
constexpr uint16_t kStoreCoercionOfDataElements = 0xB000;  // Warning
constexpr uint16_t kStoreElementsDiscarded = 0xB006;  // Warning: elements discarded, instance kept
constexpr uint16_t kStoreDataSetDoesNotMatchWarning = 0xB007;  // Warning: stored anyway

// C-GET and C-MOVE share these values (PS3.4 C.4.2.1.5, C.4.3.1.4).
constexpr uint16_t kRetrieveIdentifierDoesNotMatch = 0xA900;    // Error: identifier does not match SOP Class
constexpr uint16_t kRetrieveUnableToProcess = 0xC000;           // Failed: unable to process
constexpr uint16_t kRetrieveNoSubOperationSucceeded = 0xA702;   // Refused: unable to perform sub-operations
constexpr uint16_t kRetrieveSomeSubOperationsFailed = 0xB000;   // Warning: one or more failures
constexpr uint16_t kMoveDestinationUnknown = 0xA801;            // Refused: Move Destination unknown

// Storage commitment failure reasons (PS3.4 J.3.2.1.1.3).
constexpr uint16_t kCommitNoSuchObjectInstance = 0x0112;
constexpr uint16_t kCommitClassInstanceConflict = 0x0119;  // stored under another SOP class

// Status classes by their leading digits (PS3.7 C: Bxxx warning, Axxx / Cxxx failure;
// A7xx out of resources, A9xx data set does not match).
constexpr bool IsWarningClass(uint16_t s) { return (s & 0xF000) == 0xB000; }
constexpr bool IsFailureAClass(uint16_t s) { return (s & 0xF000) == 0xA000; }
constexpr bool IsCannotUnderstandClass(uint16_t s) { return (s & 0xF000) == 0xC000; }
constexpr bool IsOutOfResourcesClass(uint16_t s) { return (s & 0xFF00) == kStoreOutOfResources; }
constexpr bool IsDataSetDoesNotMatchClass(uint16_t s) { return (s & 0xFF00) == kStoreDataSetDoesNotMatch; }

}  // namespace strata
