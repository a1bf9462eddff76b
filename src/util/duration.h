// Durations written the way operators write them: "90s", "5m", "12h", "7d", "1w", "0".
#pragma once

#include <cstdint>
#include <string>

#include "util/status.h"

namespace strata {

// Milliseconds; a bare number is seconds.
Result<int64_t> ParseDurationMs(const std::string& text);

}  // namespace strata
