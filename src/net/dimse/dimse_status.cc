#include "net/dimse/dimse_status.h"

namespace strata {

uint16_t StoreFailureStatus(const Status& s) {
  switch (s.code()) {
    case Status::Code::kNoSpace: return 0xA700;          // Refused: Out of Resources
    case Status::Code::kInvalidArgument: return 0xC000;  // Error: Cannot understand
    case Status::Code::kUnavailable: return 0xA700;
    default: return 0x0110;                              // Processing failure
  }
}

}  // namespace strata
