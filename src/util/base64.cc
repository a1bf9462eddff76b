#include "util/base64.h"

#include <cstdint>

namespace strata {
namespace {

// One decoder for both alphabets: they differ only in the characters for 62 and 63.
Result<std::string> Decode(const std::string& in, char c62, char c63, const char* name) {
  auto value = [c62, c63](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == c62) return 62;
    if (c == c63) return 63;
    return -1;
  };
  std::string s = in;
  while (!s.empty() && s.back() == '=') s.pop_back();
  if (s.size() % 4 == 1) return Status::InvalidArgument(std::string("malformed ") + name);
  std::string out;
  out.reserve(s.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    const int v = value(c);
    if (v < 0) return Status::InvalidArgument(std::string("malformed ") + name);
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

}  // namespace

Result<std::string> Base64Decode(const std::string& in) { return Decode(in, '+', '/', "base64"); }
Result<std::string> Base64UrlDecode(const std::string& in) { return Decode(in, '-', '_', "base64url"); }

}  // namespace strata
