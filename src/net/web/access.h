// Who may use the HTTP port: authentication (identities), the roles each identity holds, and
// CORS (`web.cors_origins`), decided once per request before its handler runs.
// Identities, any combination (none configured = anyone, with every role):
//   web.auth = "bearer:TOKEN" | "basic:USER:PASS"   one shared credential, every role (legacy)
//   web.users  = USER=ROLES:PASSWORD,...             HTTP Basic users
//   web.tokens = NAME=ROLES:TOKEN,...                static bearer tokens
//   web.jwks_file / web.jwks_url + web.jwt_*         OAuth 2 / OpenID Connect JWTs (util/jwt.h);
//                                                    roles from the claim web.jwt_roles_claim
// ROLES: read, write, delete, admin (= all three), joined with '|'. Reading (QIDO, WADO, the
// web page and its API) needs read, STOW-RS write, DELETE delete.
// Passwords and tokens are compared as SHA-256 digests with CRYPTO_memcmp against every
// configured one (no early exit): constant time in the secret. Nothing here logs a secret;
// error texts name what failed ("token expired"), never the credential.
// Thread-safe after Create (SetJwks may replace the JWT keys while requests are checked).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "util/jwt.h"
#include "util/status.h"

namespace strata::web {

enum Role : unsigned { kRoleRead = 1, kRoleWrite = 2, kRoleDelete = 4, kRoleAll = 7 };

// "read|write" -> kRoleRead|kRoleWrite ("admin" = all); InvalidArgument for unknown words.
Result<unsigned> ParseRoles(const std::string& text);
// Role names from a token claim; unknown words are ignored (a token carries other scopes).
unsigned RolesFromClaim(const std::vector<std::string>& words);
std::string RoleNames(unsigned roles);

struct Identity {
  std::string name;    // user, token name or JWT subject ("" = anonymous, auth off)
  std::string scheme;  // "none" | "basic" | "bearer" | "jwt"
  unsigned roles = 0;
  int64_t expires_s = 0;  // when the credential ends (a JWT's exp; Unix seconds), 0 = never
};

struct AuthResult {
  bool ok = false;
  Identity identity;
  std::string error;  // why not, for the 401 body and the audit record
};

struct AccessOptions {
  std::string auth;                           // legacy web.auth
  std::map<std::string, std::string> users;   // USER -> "ROLES:PASSWORD"
  std::map<std::string, std::string> tokens;  // NAME -> "ROLES:TOKEN"
  bool jwt = false;                           // JWTs accepted (keys come through SetJwks)
  JwtOptions jwt_options;
  std::vector<std::string> cors_origins;
};

class AccessPolicy {
 public:
  enum class Kind { kNone, kBearer, kBasic };

  // Parses the settings; InvalidArgument naming the bad one.
  static Result<AccessPolicy> Create(const AccessOptions& options);
  // Legacy form: only `web.auth` and CORS.
  static Result<AccessPolicy> Parse(const std::string& auth, std::vector<std::string> cors_origins);

  // True when some identity is configured (requests then need credentials).
  bool enabled() const { return enabled_; }
  Kind kind() const { return kind_; }
  std::string Describe() const;  // "none" or e.g. "basic,bearer,jwt" for the start log line

  // Checks an Authorization header value at NOW_S (Unix seconds, for JWT expiry).
  AuthResult Authenticate(const std::string& authorization_header, int64_t now_s) const;
  AuthResult Authenticate(const std::string& authorization_header) const;
  // True when the header authenticates any identity (legacy check).
  bool Authorized(const std::string& authorization_header) const { return Authenticate(authorization_header).ok; }
  // The WWW-Authenticate value of a 401 ("" when auth is off); ERROR (RFC 6750
  // error_description) for a rejected bearer token.
  std::string Challenge(const std::string& error = "") const;

  // Replaces the JWT keys (JWKS document); InvalidArgument when unusable (old keys kept).
  Status SetJwks(const std::string& jwks_json) const;
  bool jwt_enabled() const { return jwt_ != nullptr; }
  size_t jwt_keys() const { return jwt_ ? jwt_->key_count() : 0; }

  // True when ORIGIN may read responses (non-empty and listed, or "*" listed).
  bool OriginAllowed(const std::string& origin) const;
  bool cors_enabled() const { return !origins_.empty(); }

 private:
  using Digest = std::array<unsigned char, 32>;
  struct Secret {
    std::string name;
    Digest digest;  // SHA-256 of "USER:PASSWORD" or of the token
    unsigned roles;
  };
  bool enabled_ = false;
  Kind kind_ = Kind::kNone;
  std::vector<Secret> basic_, bearer_;
  std::shared_ptr<JwtValidator> jwt_;
  std::vector<std::string> origins_;
};


}  // namespace strata::web
