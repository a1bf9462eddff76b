// Specific Character Set (0008,0005) -> UTF-8, for every defined term of PS3.3 C.12.1.1.2:
// the single-byte sets (ISO_IR 6/100/101/109/110/126/127/138/144/148/166/203/13), ISO_IR 192,
// GB18030, GBK, and ISO 2022 code extensions (ISO 2022 IR 6/100/.../13/87/159/149/58) with
// their escape sequences (PS3.5 6.1.2.5). glibc's iconv decodes the multi-byte repertoires one
// character at a time (JIS X 0208/0212 as EUC-JP, KS X 1001 as EUC-KR, GB 2312 as EUC-CN,
// which is why the 7-bit JIS bytes get their high bit set first); the escape sequences and
// the single-byte sets are handled here, with tables built once from iconv.
// A byte that does not decode becomes its lossless escape (util/utf8.h); decoding never fails.
// CharsetDecoder is immutable after construction: share it between threads freely.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strata {

// Where escapes return to the initial code elements (PS3.5 6.1.2.5.3) besides CR, LF, FF, TAB.
enum class TextKind {
  kPersonName,   // PN: at '^' and '=' (component groups) and '\' (values)
  kMultiValued,  // the other string VRs: at '\'
  kText,         // LT, ST, UT, UR: one value, no delimiter
};
TextKind TextKindOfVr(std::string_view vr);

class CharsetDecoder {
 public:
  // SPECIFIC_CHARACTER_SET: the raw value of (0008,0005), backslash-separated terms, padding
  // allowed; "" is the default repertoire. Unknown terms are listed in unknown_terms() and
  // otherwise ignored.
  explicit CharsetDecoder(std::string_view specific_character_set = "");

  // BYTES (one element's whole value, all its values) as UTF-8. ESCAPED, when given, receives
  // the number of bytes that did not decode (and were escaped).
  std::string Decode(std::string_view bytes, TextKind kind, size_t* escaped = nullptr) const;

  const std::vector<std::string>& terms() const { return terms_; }
  const std::vector<std::string>& unknown_terms() const { return unknown_; }
  // True when decoding is the identity for valid input (ISO_IR 192).
  bool is_utf8() const { return mode_ == Mode::kUtf8; }

  // The code elements a decoder can designate (public for the implementation's tables).
  enum class Set : uint8_t { kNone, kAscii, kRomaji, kJisX0208, kJisX0212, kKatakana, kTable, kKsX1001, kGb2312 };
  struct Designation {
    Set set = Set::kNone;
    int table = -1;  // kTable: which single-byte table
  };

 private:
  enum class Mode { kDefault, kSingleByte, kIso2022, kUtf8, kGb18030, kGbk };
  Mode mode_ = Mode::kDefault;
  Designation g0_, g1_;  // the initial code elements
  std::vector<std::string> terms_, unknown_;
};

// UTF8 in the repertoire of the first term of SPECIFIC_CHARACTER_SET (no code extensions are
// written), or nullopt when a character does not fit it. For a C-FIND SCU that asked in its
// own character set. ISO_IR 192 always fits (the input is UTF-8).
std::optional<std::string> EncodeForCharset(std::string_view specific_character_set, std::string_view utf8);

}  // namespace strata
