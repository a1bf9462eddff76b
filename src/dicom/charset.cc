#include "dicom/charset.h"

#include <iconv.h>

#include <array>
#include <cerrno>
#include <map>
#include <memory>

#include "util/utf8.h"

namespace strata {
namespace {

using Set = CharsetDecoder::Set;
using Designation = CharsetDecoder::Designation;

// The single-byte G1 repertoires: iconv name, ISO 2022 final byte of "ESC - F".
struct SingleByteSet {
  const char* iconv_name;
  char final_byte;
};
constexpr std::array<SingleByteSet, 11> kSingleByteSets = {{
    {"ISO-8859-1", 'A'},   // 0: IR 100 Latin-1
    {"ISO-8859-2", 'B'},   // 1: IR 101 Latin-2
    {"ISO-8859-3", 'C'},   // 2: IR 109 Latin-3
    {"ISO-8859-4", 'D'},   // 3: IR 110 Latin-4
    {"ISO-8859-5", 'L'},   // 4: IR 144 Cyrillic
    {"ISO-8859-6", 'G'},   // 5: IR 127 Arabic
    {"ISO-8859-7", 'F'},   // 6: IR 126 Greek
    {"ISO-8859-8", 'H'},   // 7: IR 138 Hebrew
    {"ISO-8859-9", 'M'},   // 8: IR 148 Latin-5
    {"ISO-8859-15", 'b'},  // 9: IR 203 Latin-9
    {"TIS-620", 'T'},      // 10: IR 166 Thai
}};

// iconv handles, opened once per thread and character set (iconv_t is not thread-safe).
class IconvCache {
 public:
  ~IconvCache() {
    for (auto& [name, cd] : handles_)
      if (cd != reinterpret_cast<iconv_t>(-1)) iconv_close(cd);
  }
  iconv_t Get(const std::string& key, const char* to, const char* from) {
    auto it = handles_.find(key);
    if (it != handles_.end()) return it->second;
    iconv_t cd = iconv_open(to, from);
    handles_.emplace(key, cd);
    return cd;
  }

 private:
  std::map<std::string, iconv_t> handles_;
};

iconv_t Handle(const char* to, const char* from) {
  thread_local IconvCache cache;
  return cache.Get(std::string(from) + ">" + to, to, from);
}

// Converts IN with iconv (FROM -> UTF-8), escaping each byte iconv refuses and going on.
void IconvDecode(const char* from, std::string_view in, std::string* out, size_t* escaped) {
  iconv_t cd = Handle("UTF-8", from);
  if (cd == reinterpret_cast<iconv_t>(-1)) {  // the platform lacks it: keep every byte, escaped
    for (char c : in) AppendEscapedByte(static_cast<uint8_t>(c), out), ++*escaped;
    return;
  }
  iconv(cd, nullptr, nullptr, nullptr, nullptr);
  std::string buf(in.size() * 4 + 16, '\0');
  size_t pos = 0;
  while (pos < in.size()) {
    char* src = const_cast<char*>(in.data() + pos);
    size_t src_left = in.size() - pos;
    char* dst = buf.data();
    size_t dst_left = buf.size();
    const size_t rc = iconv(cd, &src, &src_left, &dst, &dst_left);
    out->append(buf.data(), buf.size() - dst_left);
    pos = in.size() - src_left;
    if (rc != static_cast<size_t>(-1)) break;
    if (errno == E2BIG) continue;
    // EILSEQ / EINVAL: this byte starts no character.
    AppendEscapedByte(static_cast<uint8_t>(in[pos]), out);
    ++*escaped;
    ++pos;
    iconv(cd, nullptr, nullptr, nullptr, nullptr);
  }
}

// 0x80..0xFF of each single-byte set as code points (0 = unassigned), built once from iconv.
using HighHalf = std::array<char32_t, 128>;
const HighHalf& Table(int index) {
  static const auto* tables = [] {
    auto* t = new std::array<HighHalf, kSingleByteSets.size()>();
    for (size_t s = 0; s < kSingleByteSets.size(); ++s) {
      for (int b = 0x80; b <= 0xFF; ++b) {
        const char c = static_cast<char>(b);
        std::string utf8;
        size_t bad = 0;
        IconvDecode(kSingleByteSets[s].iconv_name, std::string_view(&c, 1), &utf8, &bad);
        size_t pos = 0;
        char32_t cp = 0;
        (*t)[s][b - 0x80] = bad == 0 && NextUtf8(utf8, &pos, &cp) && pos == utf8.size() ? cp : 0;
      }
    }
    return t;
  }();
  return (*tables)[static_cast<size_t>(index)];
}

enum class TermMode { kDefault, kSingleByte, kIso2022, kUtf8, kGb18030, kGbk };
struct TermInfo {
  const char* term;
  TermMode mode;
  Designation g0, g1;
};

const std::vector<TermInfo>& Terms() {
  static const std::vector<TermInfo> terms = [] {
    std::vector<TermInfo> v;
    const Designation ascii{Set::kAscii, -1}, none{};
    v.push_back({"ISO_IR 6", TermMode::kDefault, ascii, none});
    v.push_back({"ISO 2022 IR 6", TermMode::kIso2022, ascii, none});
    const int irs[] = {100, 101, 109, 110, 144, 127, 126, 138, 148, 203, 166};
    static std::vector<std::string> names;  // stable storage for the generated terms
    names.reserve(2 * std::size(irs));
    for (size_t i = 0; i < std::size(irs); ++i) {
      names.push_back("ISO_IR " + std::to_string(irs[i]));
      v.push_back({names.back().c_str(), TermMode::kSingleByte, ascii, {Set::kTable, static_cast<int>(i)}});
      names.push_back("ISO 2022 IR " + std::to_string(irs[i]));
      v.push_back({names.back().c_str(), TermMode::kIso2022, ascii, {Set::kTable, static_cast<int>(i)}});
    }
    v.push_back({"ISO_IR 13", TermMode::kSingleByte, {Set::kRomaji, -1}, {Set::kKatakana, -1}});
    v.push_back({"ISO 2022 IR 13", TermMode::kIso2022, {Set::kRomaji, -1}, {Set::kKatakana, -1}});
    v.push_back({"ISO 2022 IR 87", TermMode::kIso2022, {Set::kJisX0208, -1}, none});
    v.push_back({"ISO 2022 IR 159", TermMode::kIso2022, {Set::kJisX0212, -1}, none});
    v.push_back({"ISO 2022 IR 149", TermMode::kIso2022, none, {Set::kKsX1001, -1}});
    v.push_back({"ISO 2022 IR 58", TermMode::kIso2022, none, {Set::kGb2312, -1}});
    v.push_back({"ISO 2022 58", TermMode::kIso2022, none, {Set::kGb2312, -1}});  // CP 1234's spelling
    v.push_back({"ISO_IR 192", TermMode::kUtf8, none, none});
    v.push_back({"GB18030", TermMode::kGb18030, none, none});
    v.push_back({"GBK", TermMode::kGbk, none, none});
    v.push_back({"ISO 2022 GBK", TermMode::kGbk, none, none});  // CP 1234's spelling
    return v;
  }();
  return terms;
}

const TermInfo* FindTerm(const std::string& term) {
  for (const TermInfo& t : Terms())
    if (term == t.term) return &t;
  return nullptr;
}

std::string TrimSpaces(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\0')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\0')) --e;
  return std::string(s.substr(b, e - b));
}

std::vector<std::string> SplitTerms(std::string_view value) {
  std::vector<std::string> out;
  const std::string v = TrimSpaces(value);
  if (v.empty()) return out;
  size_t start = 0;
  for (;;) {
    const size_t p = v.find('\\', start);
    out.push_back(TrimSpaces(std::string_view(v).substr(start, p == std::string::npos ? std::string::npos : p - start)));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return out;
}

// Applies the escape sequence SEQ (the bytes after ESC, final byte included); false if unknown.
bool ApplyEscape(std::string_view seq, Designation* g0, Designation* g1) {
  if (seq == "(B") return *g0 = {Set::kAscii, -1}, true;
  if (seq == "(J") return *g0 = {Set::kRomaji, -1}, true;
  if (seq == "$B" || seq == "$@") return *g0 = {Set::kJisX0208, -1}, true;
  if (seq == "$(D") return *g0 = {Set::kJisX0212, -1}, true;
  if (seq == ")I") return *g1 = {Set::kKatakana, -1}, true;
  if (seq == "$)C") return *g1 = {Set::kKsX1001, -1}, true;
  if (seq == "$)A") return *g1 = {Set::kGb2312, -1}, true;
  if (seq.size() == 2 && seq[0] == '-') {
    for (size_t i = 0; i < kSingleByteSets.size(); ++i)
      if (kSingleByteSets[i].final_byte == seq[1]) return *g1 = {Set::kTable, static_cast<int>(i)}, true;
  }
  return false;
}

bool IsDelimiter(uint8_t b, TextKind kind) {
  if (kind == TextKind::kText) return false;
  return b == '\\' || (kind == TextKind::kPersonName && (b == '^' || b == '='));
}

}  // namespace

TextKind TextKindOfVr(std::string_view vr) {
  if (vr == "PN") return TextKind::kPersonName;
  if (vr == "LT" || vr == "ST" || vr == "UT" || vr == "UR") return TextKind::kText;
  return TextKind::kMultiValued;
}

CharsetDecoder::CharsetDecoder(std::string_view specific_character_set)
    : terms_(SplitTerms(specific_character_set)) {
  g0_ = {Set::kAscii, -1};
  bool any_2022 = false;
  for (size_t i = 0; i < terms_.size(); ++i) {
    if (terms_[i].empty()) continue;  // an empty value 1 is the default repertoire
    const TermInfo* t = FindTerm(terms_[i]);
    if (!t) {
      unknown_.push_back(terms_[i]);
      continue;
    }
    if (t->mode == TermMode::kIso2022) any_2022 = true;
  }
  const TermInfo* first = terms_.empty() || terms_[0].empty() ? nullptr : FindTerm(terms_[0]);
  if (first) {
    switch (first->mode) {
      case TermMode::kUtf8: mode_ = Mode::kUtf8; return;
      case TermMode::kGb18030: mode_ = Mode::kGb18030; return;
      case TermMode::kGbk: mode_ = Mode::kGbk; return;
      default: break;
    }
    // Value 1 gives the initial code elements; a two-byte G0 set is only ever invoked by an
    // escape (the default G0 stays ASCII).
    if (first->g0.set == Set::kAscii || first->g0.set == Set::kRomaji) g0_ = first->g0;
    g1_ = first->g1;
    mode_ = first->mode == TermMode::kDefault ? Mode::kDefault : Mode::kSingleByte;
  }
  if (any_2022) mode_ = Mode::kIso2022;
}

std::string CharsetDecoder::Decode(std::string_view bytes, TextKind kind, size_t* escaped) const {
  size_t bad = 0;
  if (escaped) *escaped = 0;
  bool plain = true;
  for (char c : bytes)
    if (static_cast<uint8_t>(c) >= 0x80 || c == 0x1B) {
      plain = false;
      break;
    }
  if (plain && mode_ != Mode::kGb18030 && mode_ != Mode::kGbk) return std::string(bytes);
  std::string out;
  out.reserve(bytes.size() * 2);
  switch (mode_) {
    case Mode::kUtf8:
      out = EscapeInvalidUtf8(bytes, &bad);
      if (escaped) *escaped = bad;
      return out;
    case Mode::kGb18030:
    case Mode::kGbk:
      IconvDecode(mode_ == Mode::kGb18030 ? "GB18030" : "GBK", bytes, &out, &bad);
      if (escaped) *escaped = bad;
      return out;
    case Mode::kDefault:
      // No declared character set: text that is valid UTF-8 is taken as such (senders that
      // forgot the attribute), anything else as ISO 8859-1, the usual default of archives.
      if (IsValidUtf8(bytes)) return std::string(bytes);
      for (char c : bytes) AppendUtf8(static_cast<uint8_t>(c), &out);
      return out;
    case Mode::kSingleByte:
    case Mode::kIso2022:
      break;
  }
  const bool escapes = mode_ == Mode::kIso2022;
  Designation g0 = g0_, g1 = g1_;
  const size_t n = bytes.size();
  auto byte = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
  auto escape = [&](size_t i) {
    AppendEscapedByte(byte(i), &out);
    ++bad;
  };
  size_t i = 0;
  while (i < n) {
    const uint8_t b = byte(i);
    if (b == 0x1B && escapes) {
      size_t j = i + 1;
      while (j < n && byte(j) >= 0x20 && byte(j) <= 0x2F) ++j;
      if (j < n && byte(j) >= 0x30 && byte(j) <= 0x7E && ApplyEscape(bytes.substr(i + 1, j - i), &g0, &g1)) {
        i = j + 1;
        continue;
      }
      escape(i++);
      continue;
    }
    if (b < 0x21 || b == 0x7F) {  // space and control characters are the same in every G0
      if (b == '\r' || b == '\n' || b == '\f' || b == '\t') g0 = g0_, g1 = g1_;
      out.push_back(static_cast<char>(b));
      ++i;
      continue;
    }
    if (b < 0x80) {
      if (g0.set == Set::kJisX0208 || g0.set == Set::kJisX0212) {
        // Two 7-bit bytes a character; as EUC-JP they carry the high bit (JIS X 0212 after SS3).
        if (i + 1 < n && byte(i + 1) >= 0x21 && byte(i + 1) <= 0x7E) {
          std::string euc;
          if (g0.set == Set::kJisX0212) euc.push_back('\x8F');
          euc.push_back(static_cast<char>(b | 0x80));
          euc.push_back(static_cast<char>(byte(i + 1) | 0x80));
          std::string ch;
          size_t fail = 0;
          IconvDecode("EUC-JP", euc, &ch, &fail);
          if (fail == 0) {
            out += ch;
          } else {
            escape(i), escape(i + 1);
          }
          i += 2;
        } else {
          escape(i++);
        }
        continue;
      }
      // ASCII, or JIS X 0201 Romaji read as ASCII (as pydicom and DCMTK do: its yen sign and
      // overline sit where '\' and '~' are).
      if (IsDelimiter(b, kind)) g0 = g0_, g1 = g1_;
      out.push_back(static_cast<char>(b));
      ++i;
      continue;
    }
    switch (g1.set) {
      case Set::kTable: {
        const char32_t cp = Table(g1.table)[b - 0x80];
        if (cp != 0) AppendUtf8(cp, &out);
        else escape(i);
        ++i;
        break;
      }
      case Set::kKatakana:
        if (b >= 0xA1 && b <= 0xDF) AppendUtf8(0xFF61 + (b - 0xA1), &out);
        else escape(i);
        ++i;
        break;
      case Set::kKsX1001:
      case Set::kGb2312:
        if (i + 1 < n && b >= 0xA1 && b <= 0xFE && byte(i + 1) >= 0xA1 && byte(i + 1) <= 0xFE) {
          std::string ch;
          size_t fail = 0;
          IconvDecode(g1.set == Set::kKsX1001 ? "EUC-KR" : "GB2312", bytes.substr(i, 2), &ch, &fail);
          if (fail == 0) out += ch;
          else escape(i), escape(i + 1);
          i += 2;
        } else {
          escape(i++);
        }
        break;
      default:
        escape(i++);
        break;
    }
  }
  if (escaped) *escaped = bad;
  return out;
}

std::optional<std::string> EncodeForCharset(std::string_view specific_character_set, std::string_view utf8) {
  const std::vector<std::string> terms = SplitTerms(specific_character_set);
  const TermInfo* first = terms.empty() || terms[0].empty() ? nullptr : FindTerm(terms[0]);
  if (first && first->mode == TermMode::kUtf8) return std::string(utf8);
  if (first && (first->mode == TermMode::kGb18030 || first->mode == TermMode::kGbk)) {
    iconv_t cd = Handle(first->mode == TermMode::kGb18030 ? "GB18030" : "GBK", "UTF-8");
    if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
    iconv(cd, nullptr, nullptr, nullptr, nullptr);
    std::string buf(utf8.size() * 4 + 16, '\0');
    char* src = const_cast<char*>(utf8.data());
    size_t src_left = utf8.size();
    char* dst = buf.data();
    size_t dst_left = buf.size();
    if (iconv(cd, &src, &src_left, &dst, &dst_left) == static_cast<size_t>(-1)) return std::nullopt;
    if (iconv(cd, nullptr, nullptr, &dst, &dst_left) == static_cast<size_t>(-1)) return std::nullopt;
    buf.resize(buf.size() - dst_left);
    return buf;
  }
  if (first && first->mode != TermMode::kDefault && first->mode != TermMode::kSingleByte &&
      first->mode != TermMode::kIso2022)
    return std::nullopt;
  const Designation g1 = first ? first->g1 : Designation{};
  std::string out;
  size_t pos = 0;
  char32_t cp;
  while (pos < utf8.size()) {
    if (!NextUtf8(utf8, &pos, &cp)) return std::nullopt;
    if (cp < 0x80) {
      if (cp == 0x1B) return std::nullopt;  // would read as an escape sequence
      out.push_back(static_cast<char>(cp));
      continue;
    }
    if (g1.set == Set::kKatakana && cp >= 0xFF61 && cp <= 0xFF9F) {
      out.push_back(static_cast<char>(0xA1 + (cp - 0xFF61)));
      continue;
    }
    if (g1.set != Set::kTable) return std::nullopt;
    const HighHalf& t = Table(g1.table);
    size_t k = 0;
    while (k < t.size() && t[k] != cp) ++k;
    if (k == t.size()) return std::nullopt;
    out.push_back(static_cast<char>(0x80 + k));
  }
  return out;
}

}  // namespace strata
