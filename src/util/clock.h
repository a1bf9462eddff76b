// The wall clock in milliseconds since the Unix epoch: what catalog rows, leases, manifests
// and the web API stamp times with. Nodes compare these across machines, so they need NTP;
// durations inside one process use std::chrono::steady_clock instead.
#pragma once

#include <chrono>
#include <cstdint>

namespace strata {

inline int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace strata
