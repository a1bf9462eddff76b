#include "util/utf8.h"

namespace strata {

bool NextUtf8(std::string_view s, size_t* pos, char32_t* cp) {
  const size_t i = *pos;
  if (i >= s.size()) return false;
  const auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) {
    *cp = b0;
    *pos = i + 1;
    return true;
  }
  size_t n;
  char32_t v, min;
  if (b0 >= 0xC2 && b0 <= 0xDF) n = 1, v = b0 & 0x1F, min = 0x80;
  else if (b0 >= 0xE0 && b0 <= 0xEF) n = 2, v = b0 & 0x0F, min = 0x800;
  else if (b0 >= 0xF0 && b0 <= 0xF4) n = 3, v = b0 & 0x07, min = 0x10000;
  else return false;
  if (s.size() - i <= n) return false;
  for (size_t k = 1; k <= n; ++k) {
    const auto b = static_cast<uint8_t>(s[i + k]);
    if ((b & 0xC0) != 0x80) return false;
    v = (v << 6) | (b & 0x3F);
  }
  // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8 (RFC 3629).
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return false;
  *cp = v;
  *pos = i + n + 1;
  return true;
}

bool IsValidUtf8(std::string_view s) {
  size_t pos = 0;
  char32_t cp;
  while (pos < s.size())
    if (!NextUtf8(s, &pos, &cp)) return false;
  return true;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string EscapeInvalidUtf8(std::string_view s, size_t* escaped) {
  size_t count = 0;
  if (IsValidUtf8(s)) {
    if (escaped) *escaped = 0;
    return std::string(s);
  }
  std::string out;
  out.reserve(s.size() + 8);
  size_t pos = 0;
  char32_t cp;
  while (pos < s.size()) {
    const size_t at = pos;
    if (NextUtf8(s, &pos, &cp)) {
      out.append(s.substr(at, pos - at));
    } else {
      AppendEscapedByte(static_cast<uint8_t>(s[pos]), &out);
      ++pos;
      ++count;
    }
  }
  if (escaped) *escaped = count;
  return out;
}

}  // namespace strata
