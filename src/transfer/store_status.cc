#include "transfer/store_status.h"

#include <cstdio>

namespace strata {

StoreStatusKind ClassifyStoreStatus(uint16_t status) {
  if (status == 0x0000) return StoreStatusKind::kSuccess;
  // Warnings: coercion of data elements, elements discarded, data set does not match SOP
  // class, attribute list error / value out of range, and the generic 0001 / Bxxx.
  if (status == 0x0001 || (status & 0xF000) == 0xB000 || status == 0x0107 || status == 0x0116)
    return StoreStatusKind::kWarning;
  return StoreStatusKind::kFailure;
}

std::string DescribeDimseStatus(uint16_t status) {
  const char* what = nullptr;
  switch (status) {
    case 0x0000: what = "success"; break;
    case 0x0001: what = "warning"; break;
    case 0x0107: what = "warning: attribute list error"; break;
    case 0x0110: what = "processing failure"; break;
    case 0x0111: what = "duplicate SOP instance"; break;
    case 0x0116: what = "warning: attribute value out of range"; break;
    case 0x0117: what = "invalid object instance"; break;
    case 0x0122: what = "SOP class not supported"; break;
    case 0x0124: what = "not authorized"; break;
    case 0x0210: what = "duplicate invocation"; break;
    case 0x0211: what = "unrecognized operation"; break;
    case 0x0212: what = "mistyped argument"; break;
    case 0xB000: what = "warning: coercion of data elements"; break;
    case 0xB006: what = "warning: elements discarded"; break;
    case 0xB007: what = "warning: data set does not match SOP class"; break;
    case 0xFE00: what = "cancelled"; break;
    default:
      if ((status & 0xFF00) == 0xA700) what = "refused: out of resources";
      else if ((status & 0xFF00) == 0xA900) what = "error: data set does not match SOP class";
      else if ((status & 0xF000) == 0xC000) what = "error: cannot understand";
      else if ((status & 0xF000) == 0xA000) what = "failure";
      else what = "unknown status";
  }
  char buf[96];
  std::snprintf(buf, sizeof buf, "0x%04X (%s)", status, what);
  return buf;
}

}  // namespace strata
