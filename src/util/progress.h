// ProgressLine: what long operations print while they run. On a terminal, one line redrawn
// in place (bar, count, MB, MB/s, ETA); otherwise (logs, CI) one plain line per second.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace strata {

class ProgressLine {
 public:
  // TOTAL_ITEMS / TOTAL_BYTES may be 0 when unknown.
  ProgressLine(std::string label, uint64_t total_items, uint64_t total_bytes, FILE* out = stderr);
  // Adds to the counters (thread-safe) and redraws at most 10 times a second.
  void Add(uint64_t items, uint64_t bytes);
  // Prints the final line.
  void Finish(const std::string& suffix = "");
  double seconds() const;

 private:
  void Draw(bool final);
  std::string label_;
  uint64_t total_items_, total_bytes_;
  uint64_t items_ = 0, bytes_ = 0;
  FILE* out_;
  bool tty_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace strata
