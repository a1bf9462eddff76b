#include "util/utf8.h"

#include <vector>

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

namespace {

// U+00C0..U+017F: the base letter(s), upper case, of each code point; "" keeps the code point
// (x and division sign). One entry per code point, '|' between them.
constexpr const char* kLatinBase =
    "A|A|A|A|A|A|AE|C|E|E|E|E|I|I|I|I|D|N|O|O|O|O|O||O|U|U|U|U|Y|TH|SS|"    // C0..DF
    "A|A|A|A|A|A|AE|C|E|E|E|E|I|I|I|I|D|N|O|O|O|O|O||O|U|U|U|U|Y|TH|Y|"     // E0..FF
    "A|A|A|A|A|A|C|C|C|C|C|C|C|C|D|D|D|D|E|E|E|E|E|E|E|E|E|E|G|G|G|G|"     // 100..11F
    "G|G|G|G|H|H|H|H|I|I|I|I|I|I|I|I|I|I|IJ|IJ|J|J|K|K|K|L|L|L|L|L|L|L|"   // 120..13F
    "L|L|L|N|N|N|N|N|N|N|N|N|O|O|O|O|O|O|OE|OE|R|R|R|R|R|R|S|S|S|S|S|S|"   // 140..15F
    "S|S|T|T|T|T|T|T|U|U|U|U|U|U|U|U|U|U|U|U|W|W|Y|Y|Y|Z|Z|Z|Z|Z|Z|S";    // 160..17F

// 192 entries, U+00C0..U+017F.
const std::vector<std::string>& LatinBase() {
  static const std::vector<std::string> table = [] {
    std::vector<std::string> t;
    std::string cur;
    for (const char* p = kLatinBase;; ++p) {
      if (*p == '|' || *p == '\0') {
        t.push_back(cur);
        cur.clear();
        if (*p == '\0') break;
      } else {
        cur.push_back(*p);
      }
    }
    return t;
  }();
  return table;
}

char32_t FoldGreek(char32_t c) {
  switch (c) {
    case 0x386: case 0x3AC: return 0x391;
    case 0x388: case 0x3AD: return 0x395;
    case 0x389: case 0x3AE: return 0x397;
    case 0x38A: case 0x390: case 0x3AA: case 0x3AF: case 0x3CA: return 0x399;
    case 0x38C: case 0x3CC: return 0x39F;
    case 0x38E: case 0x3AB: case 0x3B0: case 0x3CB: case 0x3CD: return 0x3A5;
    case 0x38F: case 0x3CE: return 0x3A9;
    case 0x3C2: return 0x3A3;  // final sigma
    default: break;
  }
  if (c >= 0x3B1 && c <= 0x3C9) return c - 0x20;
  return c;
}

}  // namespace

std::string FoldForMatching(std::string_view s) {
  static const std::vector<std::string>& latin = LatinBase();
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  char32_t c;
  while (pos < s.size()) {
    if (!NextUtf8(s, &pos, &c)) {
      out.push_back(s[pos++]);
      continue;
    }
    if (c >= 0xFF01 && c <= 0xFF5E) c = c - 0xFF01 + 0x21;  // full-width ASCII
    if (c < 0x80) {
      out.push_back(static_cast<char>(c >= 'a' && c <= 'z' ? c - 0x20 : c));
    } else if (c >= 0xC0 && c <= 0x17F && !latin[c - 0xC0].empty()) {
      out += latin[c - 0xC0];
    } else if (c >= 0x300 && c <= 0x36F) {
      // a combining mark (decomposed input): dropped
    } else if (c >= 0x370 && c <= 0x3FF) {
      AppendUtf8(FoldGreek(c), &out);
    } else if (c >= 0x430 && c <= 0x44F) {
      AppendUtf8(c - 0x20, &out);
    } else if (c >= 0x450 && c <= 0x45F) {
      AppendUtf8(c == 0x451 ? 0x415 : c - 0x50, &out);  // io as ie
    } else if (c == 0x401) {
      AppendUtf8(0x415, &out);
    } else {
      AppendUtf8(c, &out);
    }
  }
  return out;
}

}  // namespace strata
