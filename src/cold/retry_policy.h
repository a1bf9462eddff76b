// RetryPolicy: which failures of a remote call are worth another attempt, and how long to
// wait first. Transient failures are network errors, 5xx, 429 (Too Many Requests, S3's
// SlowDown) and 408 (Request Timeout); any other 4xx is the caller's mistake and retrying
// cannot fix it. The wait before retry N (1-based) is exponential with "equal jitter":
// uniformly random in [d/2, d] where d = min(max_delay, base_delay * 2^(N-1)), so many
// clients that failed together do not come back together. A server's Retry-After, when
// given, is honoured up to max_delay.
#pragma once

#include <chrono>
#include <optional>

namespace strata {

struct RetryPolicy {
  int max_retries = 4;       // attempts = max_retries + 1
  int base_delay_ms = 100;
  int max_delay_ms = 5000;

  std::chrono::milliseconds Delay(int retry_number,
                                  std::optional<int> retry_after_seconds = std::nullopt) const;
};

bool IsRetryableHttpStatus(long status);

}  // namespace strata
