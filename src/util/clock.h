// The wall clock in milliseconds since the Unix epoch: what catalog rows, leases, manifests
// and the web API stamp times with. Nodes compare these across machines, so they need NTP;
// durations inside one process use std::chrono::steady_clock instead.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

namespace strata {

inline int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// MS (unix milliseconds) in UTC as text: the seconds through strftime's DATE_TIME pattern,
// then the milliseconds (an int 0..999) through printf's MILLIS pattern. For example
// FormatUtcMs(ms, "%Y-%m-%dT%H:%M:%S", ".%03dZ") is ISO 8601 (RFC 5424 timestamps) and
// FormatUtcMs(ms, "%Y%m%d%H%M%S", ".%03d000+0000") is a DICOM DT. Times before 1970 count
// back (the milliseconds stay 0..999).
inline std::string FormatUtcMs(int64_t ms, const char* date_time, const char* millis) {
  int64_t secs = ms / 1000, rest = ms % 1000;
  if (rest < 0) {
    rest += 1000;
    --secs;
  }
  const time_t t = static_cast<time_t>(secs);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  size_t n = strftime(buf, sizeof(buf), date_time, &tm);
  std::snprintf(buf + n, sizeof(buf) - n, millis, static_cast<int>(rest));
  return buf;
}

}  // namespace strata
