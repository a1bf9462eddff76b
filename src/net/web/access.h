// Who may use the HTTP port: optional authentication (setting `web.auth`) and CORS
// (`web.cors_origins`), decided once per request before routing.
//   web.auth = ""                 anyone
//            = "bearer:TOKEN"     Authorization: Bearer TOKEN
//            = "basic:USER:PASS"  Authorization: Basic base64(USER:PASS)
// A request without valid credentials gets 401 with a WWW-Authenticate challenge. Credentials
// are compared in constant time. CORS: an Origin in the list (or "*" in the list) gets
// Access-Control-Allow-Origin echoing it; preflight OPTIONS requests are answered here.
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace strata::web {

class AccessPolicy {
 public:
  enum class Kind { kNone, kBearer, kBasic };

  // Parses the `web.auth` setting; InvalidArgument for anything but the three forms.
  static Result<AccessPolicy> Parse(const std::string& auth, std::vector<std::string> cors_origins);

  Kind kind() const { return kind_; }
  // True when the Authorization header value satisfies the policy (always, for kNone).
  bool Authorized(const std::string& authorization_header) const;
  // The WWW-Authenticate value of a 401 ("" for kNone).
  std::string Challenge() const;
  // True when ORIGIN may read responses (non-empty and listed, or "*" listed).
  bool OriginAllowed(const std::string& origin) const;
  bool cors_enabled() const { return !origins_.empty(); }

 private:
  Kind kind_ = Kind::kNone;
  std::string expected_;  // the token, or "USER:PASS"
  std::vector<std::string> origins_;
};

// Standard base64 decoding; InvalidArgument for malformed input.
Result<std::string> Base64Decode(const std::string& in);

}  // namespace strata::web
