#include "util/temp_name.h"

#include <cstdint>
#include <random>

namespace strata {

std::string RandomHex(size_t digits) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(digits);
  while (out.size() < digits) {
    uint64_t r = rng();
    for (int i = 0; i < 16 && out.size() < digits; ++i, r >>= 4) out += kHex[r & 0xf];
  }
  return out;
}

std::string TempName(std::string_view base) {
  std::string out(kTempPrefix);
  out += RandomHex(kTempRandomHex);
  out += '-';
  out += base;
  return out;
}

std::string TempPathBeside(std::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return TempName(path);
  return std::string(path.substr(0, slash + 1)) + TempName(path.substr(slash + 1));
}

bool ParseTempName(std::string_view name, std::string* base) {
  if (name.substr(0, kTempPrefix.size()) != kTempPrefix) return false;
  name.remove_prefix(kTempPrefix.size());
  if (name.size() < kTempRandomHex + 2 || name[kTempRandomHex] != '-') return false;
  if (name.substr(0, kTempRandomHex).find_first_not_of("0123456789abcdef") != std::string_view::npos) return false;
  if (base) *base = std::string(name.substr(kTempRandomHex + 1));
  return true;
}

}  // namespace strata
