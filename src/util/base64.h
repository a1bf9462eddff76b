// Base64 decoding (RFC 4648): the standard alphabet (HTTP Basic credentials) and the URL-safe
// one (JWT segments, JWK key material). Padding is optional; any other character, or a length
// no encoding produces, is InvalidArgument. Pure functions, thread-safe.
#pragma once

#include <string>

#include "util/status.h"

namespace strata {

Result<std::string> Base64Decode(const std::string& in);     // A-Z a-z 0-9 + /
Result<std::string> Base64UrlDecode(const std::string& in);  // A-Z a-z 0-9 - _

}  // namespace strata
