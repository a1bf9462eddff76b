#include "net/web/access.h"

#include <algorithm>
#include <cctype>

namespace strata::web {
namespace {

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

bool StartsWithNoCase(const std::string& s, const std::string& prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

std::string Strip(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  const size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

}  // namespace

Result<std::string> Base64Decode(const std::string& in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string s = in;
  while (!s.empty() && s.back() == '=') s.pop_back();
  if (s.size() % 4 == 1) return Status::InvalidArgument("malformed base64");
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    const int v = value(c);
    if (v < 0) return Status::InvalidArgument("malformed base64");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

Result<AccessPolicy> AccessPolicy::Parse(const std::string& auth, std::vector<std::string> cors_origins) {
  AccessPolicy p;
  for (auto& o : cors_origins) o = Strip(o);
  cors_origins.erase(std::remove(cors_origins.begin(), cors_origins.end(), std::string()), cors_origins.end());
  p.origins_ = std::move(cors_origins);
  if (auth.empty()) return p;
  if (auth.rfind("bearer:", 0) == 0) {
    p.kind_ = Kind::kBearer;
    p.expected_ = auth.substr(7);
    if (p.expected_.empty()) return Status::InvalidArgument("web.auth bearer:TOKEN needs a token");
    return p;
  }
  if (auth.rfind("basic:", 0) == 0) {
    p.kind_ = Kind::kBasic;
    p.expected_ = auth.substr(6);
    const size_t colon = p.expected_.find(':');
    if (colon == std::string::npos || colon == 0)
      return Status::InvalidArgument("web.auth must be basic:USER:PASSWORD");
    return p;
  }
  return Status::InvalidArgument("web.auth must be empty, bearer:TOKEN or basic:USER:PASSWORD");
}

bool AccessPolicy::Authorized(const std::string& header) const {
  switch (kind_) {
    case Kind::kNone:
      return true;
    case Kind::kBearer:
      return StartsWithNoCase(header, "Bearer ") && ConstantTimeEquals(Strip(header.substr(7)), expected_);
    case Kind::kBasic: {
      if (!StartsWithNoCase(header, "Basic ")) return false;
      auto decoded = Base64Decode(Strip(header.substr(6)));
      return decoded.ok() && ConstantTimeEquals(decoded.value(), expected_);
    }
  }
  return false;
}

std::string AccessPolicy::Challenge() const {
  switch (kind_) {
    case Kind::kBearer: return "Bearer realm=\"strata\"";
    case Kind::kBasic: return "Basic realm=\"strata\", charset=\"UTF-8\"";
    default: return "";
  }
}

bool AccessPolicy::OriginAllowed(const std::string& origin) const {
  if (origin.empty()) return false;
  for (const auto& o : origins_)
    if (o == "*" || o == origin) return true;
  return false;
}

}  // namespace strata::web
