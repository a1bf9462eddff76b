#include "transfer/store_status.h"

#include <cstdio>

#include "dicom/dimse_status_codes.h"

namespace strata {

StoreStatusKind ClassifyStoreStatus(uint16_t status) {
  if (status == kStatusSuccess) return StoreStatusKind::kSuccess;
  // Warnings: coercion of data elements, elements discarded, data set does not match SOP
  // class, attribute list error / value out of range, and the generic 0001 / Bxxx.
  if (status == kStatusWarning || IsWarningClass(status) || status == kStatusAttributeListError ||
      status == kStatusAttributeValueOutOfRange)
    return StoreStatusKind::kWarning;
  return StoreStatusKind::kFailure;
}

std::string DescribeDimseStatus(uint16_t status) {
  const char* what = nullptr;
  switch (status) {
    case kStatusSuccess: what = "success"; break;
    case kStatusWarning: what = "warning"; break;
    case kStatusAttributeListError: what = "warning: attribute list error"; break;
    case kProcessingFailure: what = "processing failure"; break;
    case kStatusDuplicateSopInstance: what = "duplicate SOP instance"; break;
    case kStatusAttributeValueOutOfRange: what = "warning: attribute value out of range"; break;
    case kStatusInvalidObjectInstance: what = "invalid object instance"; break;
    case kStatusSopClassNotSupported: what = "SOP class not supported"; break;
    case kStatusNotAuthorized: what = "not authorized"; break;
    case kStatusDuplicateInvocation: what = "duplicate invocation"; break;
    case kStatusUnrecognizedOperation: what = "unrecognized operation"; break;
    case kStatusMistypedArgument: what = "mistyped argument"; break;
    case kStoreCoercionOfDataElements: what = "warning: coercion of data elements"; break;
    case kStoreElementsDiscarded: what = "warning: elements discarded"; break;
    case kStoreDataSetDoesNotMatchWarning: what = "warning: data set does not match SOP class"; break;
    case kStatusCancel: what = "cancelled"; break;
    default:
      if (IsOutOfResourcesClass(status)) what = "refused: out of resources";
      else if (IsDataSetDoesNotMatchClass(status)) what = "error: data set does not match SOP class";
      else if (IsCannotUnderstandClass(status)) what = "error: cannot understand";
      else if (IsFailureAClass(status)) what = "failure";
      else what = "unknown status";
  }
  char buf[96];
  std::snprintf(buf, sizeof buf, "0x%04X (%s)", status, what);
  return buf;
}

}  // namespace strata
