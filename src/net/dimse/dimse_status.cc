#include "net/dimse/dimse_status.h"

namespace strata {

uint16_t StoreFailureStatus(const Status& s) {
  switch (s.code()) {
    case Status::Code::kNoSpace: return kStoreOutOfResources;
    case Status::Code::kInvalidArgument: return kStoreCannotUnderstand;
    case Status::Code::kUnavailable: return kStoreOutOfResources;
    default: return kProcessingFailure;
  }
}

}  // namespace strata
