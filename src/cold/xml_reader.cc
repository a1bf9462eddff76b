#include "cold/xml_reader.h"

#include <cstdint>

#include "util/utf8.h"

namespace strata {

const XmlElement* XmlElement::Child(std::string_view n) const {
  for (const auto& c : children) {
    if (c.name == n) return &c;
  }
  return nullptr;
}

std::string XmlElement::ChildText(std::string_view n) const {
  const XmlElement* c = Child(n);
  return c ? c->text : std::string();
}

std::vector<const XmlElement*> XmlElement::Children(std::string_view n) const {
  std::vector<const XmlElement*> out;
  for (const auto& c : children) {
    if (c.name == n) out.push_back(&c);
  }
  return out;
}

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

class Parser {
 public:
  explicit Parser(std::string_view doc) : s_(doc) {}

  Result<XmlElement> Parse() {
    if (s_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;  // UTF-8 byte order mark
    STRATA_RETURN_IF_ERROR(SkipMisc());
    if (pos_ >= s_.size() || s_[pos_] != '<') return Error("no root element");
    XmlElement root;
    STRATA_RETURN_IF_ERROR(ParseElement(&root, 0));
    STRATA_RETURN_IF_ERROR(SkipMisc());
    if (pos_ != s_.size()) return Error("content after the root element");
    return root;
  }

 private:
  Status Error(const std::string& what) const {
    return Status::Corruption("malformed XML at byte " + std::to_string(pos_) + ": " + what);
  }

  bool StartsWith(std::string_view p) const { return s_.substr(pos_, p.size()) == p; }

  // Skips whitespace, comments, processing instructions and a DOCTYPE between elements.
  Status SkipMisc() {
    while (pos_ < s_.size()) {
      if (IsSpace(s_[pos_])) {
        ++pos_;
      } else if (StartsWith("<?")) {
        size_t e = s_.find("?>", pos_ + 2);
        if (e == std::string_view::npos) return Error("unterminated processing instruction");
        pos_ = e + 2;
      } else if (StartsWith("<!--")) {
        STRATA_RETURN_IF_ERROR(SkipComment());
      } else if (StartsWith("<!DOCTYPE")) {
        size_t e = s_.find('>', pos_);
        if (e == std::string_view::npos) return Error("unterminated DOCTYPE");
        if (s_.substr(pos_, e - pos_).find('[') != std::string_view::npos) {
          return Error("DOCTYPE with an internal subset is not supported");
        }
        pos_ = e + 1;
      } else {
        break;
      }
    }
    return Status::OK();
  }

  Status SkipComment() {
    size_t e = s_.find("-->", pos_ + 4);
    if (e == std::string_view::npos) return Error("unterminated comment");
    pos_ = e + 3;
    return Status::OK();
  }

  Status ParseName(std::string* local) {
    size_t start = pos_;
    while (pos_ < s_.size() && !IsSpace(s_[pos_]) && s_[pos_] != '>' && s_[pos_] != '/' &&
           s_[pos_] != '=') {
      ++pos_;
    }
    if (pos_ == start) return Error("empty tag name");
    std::string_view qname = s_.substr(start, pos_ - start);
    size_t colon = qname.find(':');
    *local = std::string(colon == std::string_view::npos ? qname : qname.substr(colon + 1));
    return Status::OK();
  }

  Status DecodeText(std::string_view raw, std::string* out) {
    size_t i = 0;
    while (i < raw.size()) {
      char c = raw[i];
      if (c != '&') {
        out->push_back(c);
        ++i;
        continue;
      }
      size_t semi = raw.find(';', i);
      if (semi == std::string_view::npos) return Error("unterminated entity reference");
      std::string_view ent = raw.substr(i + 1, semi - i - 1);
      if (ent == "amp") {
        out->push_back('&');
      } else if (ent == "lt") {
        out->push_back('<');
      } else if (ent == "gt") {
        out->push_back('>');
      } else if (ent == "quot") {
        out->push_back('"');
      } else if (ent == "apos") {
        out->push_back('\'');
      } else if (ent.size() >= 2 && ent[0] == '#') {
        bool hex = ent[1] == 'x' || ent[1] == 'X';
        std::string_view digits = ent.substr(hex ? 2 : 1);
        if (digits.empty() || digits.size() > 8) return Error("bad character reference");
        uint32_t cp = 0;
        for (char d : digits) {
          uint32_t v;
          if (d >= '0' && d <= '9') v = static_cast<uint32_t>(d - '0');
          else if (hex && d >= 'a' && d <= 'f') v = static_cast<uint32_t>(d - 'a' + 10);
          else if (hex && d >= 'A' && d <= 'F') v = static_cast<uint32_t>(d - 'A' + 10);
          else return Error("bad character reference");
          cp = cp * (hex ? 16 : 10) + v;
        }
        if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
          return Error("character reference out of range");
        }
        AppendUtf8(static_cast<char32_t>(cp), out);
      } else {
        return Error("unknown entity &" + std::string(ent) + ";");
      }
      i = semi + 1;
    }
    return Status::OK();
  }

  // At '<' of a start tag.
  Status ParseElement(XmlElement* el, int depth) {
    if (depth > 64) return Error("elements nested too deeply");
    ++pos_;  // '<'
    STRATA_RETURN_IF_ERROR(ParseName(&el->name));
    // Attributes are skipped, honouring quoted values (which may contain '>').
    while (true) {
      if (pos_ >= s_.size()) return Error("unterminated start tag <" + el->name);
      char c = s_[pos_];
      if (c == '"' || c == '\'') {
        size_t e = s_.find(c, pos_ + 1);
        if (e == std::string_view::npos) return Error("unterminated attribute value");
        pos_ = e + 1;
      } else if (c == '/') {
        if (pos_ + 1 >= s_.size() || s_[pos_ + 1] != '>') return Error("stray '/' in tag");
        pos_ += 2;
        return Status::OK();  // self-closing
      } else if (c == '>') {
        ++pos_;
        break;
      } else {
        ++pos_;
      }
    }
    // Content.
    while (true) {
      if (pos_ >= s_.size()) return Error("unclosed element <" + el->name + ">");
      if (s_[pos_] != '<') {
        size_t e = s_.find('<', pos_);
        if (e == std::string_view::npos) e = s_.size();
        STRATA_RETURN_IF_ERROR(DecodeText(s_.substr(pos_, e - pos_), &el->text));
        pos_ = e;
      } else if (StartsWith("</")) {
        pos_ += 2;
        std::string name;
        STRATA_RETURN_IF_ERROR(ParseName(&name));
        while (pos_ < s_.size() && IsSpace(s_[pos_])) ++pos_;
        if (pos_ >= s_.size() || s_[pos_] != '>') return Error("bad end tag");
        ++pos_;
        if (name != el->name) {
          return Error("end tag </" + name + "> does not match <" + el->name + ">");
        }
        return Status::OK();
      } else if (StartsWith("<![CDATA[")) {
        size_t e = s_.find("]]>", pos_ + 9);
        if (e == std::string_view::npos) return Error("unterminated CDATA section");
        el->text.append(s_.substr(pos_ + 9, e - pos_ - 9));
        pos_ = e + 3;
      } else if (StartsWith("<!--")) {
        STRATA_RETURN_IF_ERROR(SkipComment());
      } else if (StartsWith("<?")) {
        size_t e = s_.find("?>", pos_ + 2);
        if (e == std::string_view::npos) return Error("unterminated processing instruction");
        pos_ = e + 2;
      } else {
        el->children.emplace_back();
        STRATA_RETURN_IF_ERROR(ParseElement(&el->children.back(), depth + 1));
      }
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

Result<XmlElement> ParseXml(std::string_view doc) { return Parser(doc).Parse(); }

std::string XmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace strata
