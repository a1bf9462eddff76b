#include "net/web/access.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "util/base64.h"

namespace strata::web {
namespace {

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

Result<unsigned> ParseRoles(const std::string& text) {
  unsigned roles = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('|', pos);
    if (end == std::string::npos) end = text.size();
    const std::string w = Strip(text.substr(pos, end - pos));
    const unsigned r = RolesFromClaim({w});
    if (!w.empty() && r == 0) return Status::InvalidArgument("unknown role '" + w + "' (read, write, delete, admin)");
    roles |= r;
    pos = end + 1;
  }
  return roles;
}

unsigned RolesFromClaim(const std::vector<std::string>& words) {
  unsigned roles = 0;
  for (const auto& w : words) {
    if (w == "read") roles |= kRoleRead;
    else if (w == "write") roles |= kRoleWrite;
    else if (w == "delete") roles |= kRoleDelete;
    else if (w == "admin") roles |= kRoleAll;
  }
  return roles;
}

std::string RoleNames(unsigned roles) {
  std::string out;
  for (auto [bit, name] : {std::pair{kRoleRead, "read"}, std::pair{kRoleWrite, "write"}, std::pair{kRoleDelete, "delete"}})
    if (roles & bit) out += (out.empty() ? "" : "|") + std::string(name);
  return out.empty() ? "none" : out;
}

namespace {

std::array<unsigned char, 32> Sha256(const std::string& s) {
  std::array<unsigned char, 32> d{};
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), d.data(), &len, EVP_sha256(), nullptr);
  return d;
}

// "ROLES:SECRET" of web.users / web.tokens.
Status SplitRolesSecret(const std::string& setting, const std::string& name, const std::string& value,
                        unsigned* roles, std::string* secret) {
  const size_t colon = value.find(':');
  if (colon == std::string::npos || colon + 1 == value.size())
    return Status::InvalidArgument(setting + ": " + name + " must be ROLES:SECRET (e.g. read|write:...)");
  auto r = ParseRoles(value.substr(0, colon));
  if (!r.ok()) return Status::InvalidArgument(setting + ": " + name + ": " + r.status().message());
  *roles = r.value();
  *secret = value.substr(colon + 1);
  return Status::OK();
}

}  // namespace

Result<AccessPolicy> AccessPolicy::Parse(const std::string& auth, std::vector<std::string> cors_origins) {
  AccessOptions o;
  o.auth = auth;
  o.cors_origins = std::move(cors_origins);
  return Create(o);
}

Result<AccessPolicy> AccessPolicy::Create(const AccessOptions& options) {
  AccessPolicy p;
  for (const auto& o : options.cors_origins)
    if (std::string s = Strip(o); !s.empty()) p.origins_.push_back(s);
  const std::string& auth = options.auth;
  if (auth.rfind("bearer:", 0) == 0) {
    p.kind_ = Kind::kBearer;
    if (auth.size() == 7) return Status::InvalidArgument("web.auth bearer:TOKEN needs a token");
    p.bearer_.push_back({"bearer", Sha256(auth.substr(7)), kRoleAll});
  } else if (auth.rfind("basic:", 0) == 0) {
    p.kind_ = Kind::kBasic;
    const std::string up = auth.substr(6);
    const size_t colon = up.find(':');
    if (colon == std::string::npos || colon == 0) return Status::InvalidArgument("web.auth must be basic:USER:PASSWORD");
    p.basic_.push_back({up.substr(0, colon), Sha256(up), kRoleAll});
  } else if (!auth.empty()) {
    return Status::InvalidArgument("web.auth must be empty, bearer:TOKEN or basic:USER:PASSWORD");
  }
  for (const auto& [user, value] : options.users) {
    if (user.empty() || user.find(':') != std::string::npos)
      return Status::InvalidArgument("web.users: user names must be non-empty and without ':'");
    unsigned roles = 0;
    std::string password;
    STRATA_RETURN_IF_ERROR(SplitRolesSecret("web.users", user, value, &roles, &password));
    p.basic_.push_back({user, Sha256(user + ":" + password), roles});
  }
  for (const auto& [name, value] : options.tokens) {
    unsigned roles = 0;
    std::string token;
    STRATA_RETURN_IF_ERROR(SplitRolesSecret("web.tokens", name, value, &roles, &token));
    p.bearer_.push_back({name, Sha256(token), roles});
  }
  if (options.jwt) p.jwt_ = std::make_shared<JwtValidator>(options.jwt_options);
  p.enabled_ = !p.basic_.empty() || !p.bearer_.empty() || p.jwt_ != nullptr;
  return p;
}

std::string AccessPolicy::Describe() const {
  if (!enabled_) return "none";
  std::string out;
  if (!basic_.empty()) out += "basic";
  if (!bearer_.empty()) out += std::string(out.empty() ? "" : ",") + "bearer";
  if (jwt_) out += std::string(out.empty() ? "" : ",") + "jwt";
  return out;
}

AuthResult AccessPolicy::Authenticate(const std::string& header) const {
  return Authenticate(header, static_cast<int64_t>(time(nullptr)));
}

AuthResult AccessPolicy::Authenticate(const std::string& header, int64_t now_s) const {
  AuthResult r;
  if (!enabled_) {
    r.ok = true;
    r.identity = {"", "none", kRoleAll};
    return r;
  }
  // Every configured secret is compared (no early exit), so timing says nothing about which.
  auto match = [](const std::vector<Secret>& secrets, const Digest& d) -> const Secret* {
    const Secret* found = nullptr;
    for (const auto& s : secrets)
      if (CRYPTO_memcmp(s.digest.data(), d.data(), d.size()) == 0) found = &s;
    return found;
  };
  if (StartsWithNoCase(header, "Basic ")) {
    auto decoded = Base64Decode(Strip(header.substr(6)));
    const Secret* s = decoded.ok() && !basic_.empty() ? match(basic_, Sha256(decoded.value())) : nullptr;
    if (s == nullptr) {
      r.error = basic_.empty() ? "Basic authentication is not accepted here" : "wrong user name or password";
      // The user name (never the password) for the audit record.
      if (decoded.ok()) r.identity.name = decoded->substr(0, std::min<size_t>(decoded->find(':'), 64));
      r.identity.scheme = "basic";
      return r;
    }
    r.ok = true;
    r.identity = {s->name, "basic", s->roles};
    return r;
  }
  if (StartsWithNoCase(header, "Bearer ")) {
    const std::string token = Strip(header.substr(7));
    if (const Secret* s = bearer_.empty() ? nullptr : match(bearer_, Sha256(token))) {
      r.ok = true;
      r.identity = {s->name, "bearer", s->roles};
      return r;
    }
    r.identity.scheme = "bearer";
    if (jwt_ && std::count(token.begin(), token.end(), '.') == 2) {
      auto claims = jwt_->Validate(token, now_s);
      r.identity.scheme = "jwt";
      if (!claims.ok()) {
        r.error = claims.status().message();
        return r;
      }
      r.ok = true;
      r.identity = {claims->subject, "jwt", RolesFromClaim(claims->roles), claims->expires_s};
      return r;
    }
    r.error = "unknown bearer token";
    return r;
  }
  r.error = header.empty() ? "authentication required" : "unsupported Authorization scheme";
  return r;
}

std::string AccessPolicy::Challenge(const std::string& error) const {
  if (!enabled_) return "";
  if (!bearer_.empty() || jwt_) {
    std::string c = "Bearer realm=\"strata\"";
    if (!error.empty()) {
      std::string why = error;
      std::replace(why.begin(), why.end(), '"', '\'');
      c += ", error=\"invalid_token\", error_description=\"" + why + "\"";
    }
    return c;
  }
  return "Basic realm=\"strata\", charset=\"UTF-8\"";
}

Status AccessPolicy::SetJwks(const std::string& jwks_json) const {
  if (!jwt_) return Status::InvalidArgument("JWT authentication is not configured");
  return jwt_->SetKeys(jwks_json);
}

bool AccessPolicy::OriginAllowed(const std::string& origin) const {
  if (origin.empty()) return false;
  for (const auto& o : origins_)
    if (o == "*" || o == origin) return true;
  return false;
}

}  // namespace strata::web
