#include "util/duration.h"

namespace strata {

Result<int64_t> ParseDurationMs(const std::string& text) {
  if (text.empty()) return Status::InvalidArgument("empty duration");
  size_t used = 0;
  double v;
  try {
    v = std::stod(text, &used);
  } catch (...) {
    return Status::InvalidArgument("bad duration '" + text + "'");
  }
  if (v < 0) return Status::InvalidArgument("negative duration '" + text + "'");
  std::string unit = text.substr(used);
  double mult;
  if (unit.empty() || unit == "s") mult = 1000;
  else if (unit == "ms") mult = 1;
  else if (unit == "m" || unit == "min") mult = 60e3;
  else if (unit == "h") mult = 3600e3;
  else if (unit == "d") mult = 86400e3;
  else if (unit == "w") mult = 7 * 86400e3;
  else return Status::InvalidArgument("bad duration unit in '" + text + "' (use ms, s, m, h, d or w)");
  return static_cast<int64_t>(v * mult);
}

}  // namespace strata
