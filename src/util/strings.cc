#include "util/strings.h"

namespace strata {

std::string TrimSpaces(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  return std::string(s.substr(b, s.find_last_not_of(" \t") - b + 1));
}

std::vector<std::string> SplitComma(std::string_view s) {
  std::vector<std::string> out;
  for (size_t start = 0;;) {
    const size_t p = s.find(',', start);
    out.push_back(TrimSpaces(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start)));
    if (p == std::string_view::npos) return out;
    start = p + 1;
  }
}

}  // namespace strata
