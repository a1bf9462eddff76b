// What a C-STORE response status means (PS3.4 B.2.3, PS3.7 C): success, warning (stored,
// with a remark), or failure.
#pragma once

#include <cstdint>
#include <string>

namespace strata {

enum class StoreStatusKind { kSuccess, kWarning, kFailure };

StoreStatusKind ClassifyStoreStatus(uint16_t status);
// "0xA700 (refused: out of resources)"
std::string DescribeDimseStatus(uint16_t status);

}  // namespace strata
