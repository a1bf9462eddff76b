#include "cold/object_key.h"

#include <string>

namespace strata {
namespace {

bool AllowedChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '.': case '_': case '-': case '~': case '=': case '+': case ',': case '@':
      return true;
    default:
      return false;
  }
}

std::string Quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      static const char* kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[(static_cast<unsigned char>(c) >> 4) & 0xf];
      out += kHex[static_cast<unsigned char>(c) & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

// Checks the components of S; when ALLOW_PARTIAL_LAST the last one may be empty.
Status CheckComponents(std::string_view s, bool allow_partial_last, const char* what) {
  if (s.size() > kMaxObjectKeyBytes) {
    return Status::InvalidArgument(std::string(what) + " longer than 1024 bytes");
  }
  if (!s.empty() && s.front() == '/') {
    return Status::InvalidArgument(std::string(what) + " " + Quoted(s) + " starts with '/'");
  }
  size_t start = 0;
  while (true) {
    size_t end = s.find('/', start);
    bool last = end == std::string_view::npos;
    std::string_view comp = s.substr(start, last ? std::string_view::npos : end - start);
    if (comp.empty() && !(last && allow_partial_last)) {
      return Status::InvalidArgument(std::string(what) + " " + Quoted(s) +
                                     " has an empty path component");
    }
    if (comp.size() > kMaxKeyComponentBytes) {
      return Status::InvalidArgument(std::string(what) + " " + Quoted(s) +
                                     " has a component longer than 200 bytes");
    }
    if (!comp.empty() && comp.front() == '.') {
      return Status::InvalidArgument(std::string(what) + " " + Quoted(s) +
                                     " has a component starting with '.'");
    }
    for (char c : comp) {
      if (!AllowedChar(c)) {
        return Status::InvalidArgument(std::string(what) + " " + Quoted(s) +
                                       " contains a character outside [A-Za-z0-9._-~=+,@/]");
      }
    }
    if (last) break;
    start = end + 1;
  }
  return Status::OK();
}

}  // namespace

Status ValidateObjectKey(std::string_view key) {
  if (key.empty()) return Status::InvalidArgument("empty object key");
  return CheckComponents(key, /*allow_partial_last=*/false, "object key");
}

Status ValidateKeyPrefix(std::string_view prefix) {
  if (prefix.empty()) return Status::OK();
  return CheckComponents(prefix, /*allow_partial_last=*/true, "key prefix");
}

}  // namespace strata
