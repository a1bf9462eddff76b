#include "cold/retry_policy.h"

#include <algorithm>
#include <random>

namespace strata {

std::chrono::milliseconds RetryPolicy::Delay(int retry_number,
                                             std::optional<int> retry_after_seconds) const {
  int64_t cap = std::max(0, max_delay_ms);
  if (retry_after_seconds && *retry_after_seconds >= 0) {
    return std::chrono::milliseconds(std::min<int64_t>(cap, int64_t{*retry_after_seconds} * 1000));
  }
  int shift = std::clamp(retry_number - 1, 0, 30);
  int64_t d = std::min<int64_t>(cap, int64_t{std::max(0, base_delay_ms)} << shift);
  if (d <= 1) return std::chrono::milliseconds(d);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<int64_t> dist(d / 2, d);
  return std::chrono::milliseconds(dist(rng));
}

bool IsRetryableHttpStatus(long status) {
  return status >= 500 || status == 429 || status == 408;
}

}  // namespace strata
