// UTF-8 checks and the lossless escape Strata uses for bytes that no character set decodes.
// An undecodable byte B becomes the private-use code point U+EF00+B (the "OPTU-8" convention):
// the result is always valid UTF-8, and the original bytes can be recovered from it.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace strata {

// First code point of the escape range; byte B maps to kEscapedByteBase + B.
inline constexpr char32_t kEscapedByteBase = 0xEF00;

bool IsValidUtf8(std::string_view s);
// Appends code point CP (<= U+10FFFF, not a surrogate) as UTF-8.
void AppendUtf8(char32_t cp, std::string* out);
// Appends the escape of one undecodable byte.
inline void AppendEscapedByte(uint8_t b, std::string* out) { AppendUtf8(kEscapedByteBase + b, out); }
// S with every byte that is not part of a valid UTF-8 sequence escaped; S itself when valid.
// ESCAPED (optional) is set to the number of escaped bytes.
std::string EscapeInvalidUtf8(std::string_view s, size_t* escaped = nullptr);
// Decodes the code point at S[*pos] and advances *pos; false (pos unchanged) if the bytes at
// *pos are not a valid UTF-8 sequence.
bool NextUtf8(std::string_view s, size_t* pos, char32_t* cp);

}  // namespace strata
