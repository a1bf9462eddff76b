// JWT bearer tokens (RFC 7519) as OAuth 2 / OpenID Connect providers issue them, validated
// locally: the signature (RS256 or ES256, RFC 7518) against a JSON Web Key Set (RFC 7517),
// the key chosen by the header's "kid" (or the only key of the algorithm when the token names
// none), then "iss", "aud", "exp" and "nbf" (with a small leeway for clock skew). All crypto
// is OpenSSL's EVP; parsing is nlohmann json.
// Thread-safety: Validate() may run on any number of threads while SetKeys() replaces the
// key set (a JWKS refresh); each validation sees one whole key set.
// Errors: InvalidArgument with a message fit for a 401 body ("token expired", "wrong
// audience", ...). Messages never contain the token itself.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "util/status.h"

namespace strata {

struct JwtOptions {
  std::string issuer;                  // required "iss" ("" = not checked)
  std::vector<std::string> audiences;  // "aud" must contain one of these ("" / empty = not checked)
  int64_t leeway_s = 60;               // clock skew allowed on exp / nbf
  std::string roles_claim = "roles";   // claim holding the roles: array of strings, or a space-separated string ("scope")
};

struct JwtClaims {
  std::string subject;             // "sub" (or "preferred_username" / "client_id" when absent)
  std::vector<std::string> roles;  // the values of the roles claim
  int64_t expires_s = 0;           // "exp"
};

class JwtValidator {
 public:
  explicit JwtValidator(JwtOptions options);
  ~JwtValidator();

  // Replaces the keys with those of JWKS_JSON ({"keys":[...]}): RSA ("kty":"RSA", n, e) and
  // EC P-256 ("kty":"EC","crv":"P-256", x, y) keys meant for signatures; others are skipped.
  // InvalidArgument when the document is malformed or holds no usable key (old keys kept).
  Status SetKeys(const std::string& jwks_json);
  size_t key_count() const;

  // Checks TOKEN (compact JWS "header.payload.signature") at time NOW_S (Unix seconds).
  Result<JwtClaims> Validate(const std::string& token, int64_t now_s) const;

  const JwtOptions& options() const { return options_; }

 private:
  struct KeySet;
  JwtOptions options_;
  mutable std::mutex mu_;
  std::shared_ptr<const KeySet> keys_;
};

}  // namespace strata
