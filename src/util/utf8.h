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

// The matching key of a name for case- and accent-insensitive matching (query.pn_match =
// insensitive): letters upper-cased and stripped of their diacritics for Latin (Latin-1
// Supplement, Latin Extended-A: "Müller" and "MULLER" give "MULLER", "ß" gives "SS"), Greek
// (tonos and dialytika dropped, final sigma as sigma) and Cyrillic; combining marks
// (U+0300..U+036F) dropped; full-width ASCII as ASCII. Other characters (CJK, kana, Hangul,
// escaped bytes, '*' and '?') are kept as they are, so a wildcard pattern folds like a value.
// A table, not the locale: the same key on every platform and in both catalog engines.
// S must be valid UTF-8; an invalid byte is kept as is.
std::string FoldForMatching(std::string_view s);

}  // namespace strata
