// SigV4Signer: AWS Signature Version 4 for the Authorization header.
//
// Contract: Sign() turns a request description into the canonical request, the string to
// sign, the signature and the "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
// Signature=..." header value, byte for byte as AWS specifies. Every header passed in is
// signed (the caller passes exactly the headers it sends, including host and x-amz-date;
// for S3 also x-amz-content-sha256, and x-amz-security-token with temporary credentials).
//
// URI rules are S3's: the raw path is URI-encoded once ('/' kept) and not normalised; query
// names and values are passed raw and encoded here. For paths made of unreserved characters
// this is also what the generic AWS test suite expects.
//
// Thread-safe: Sign() may run on many threads; the derived signing key is cached per day.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace strata {

struct SigV4Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // temporary credentials only; empty otherwise
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;
using QueryList = std::vector<std::pair<std::string, std::string>>;

struct SigV4Request {
  std::string method;         // "GET", "PUT", ...
  std::string path = "/";     // raw (not encoded), starts with '/'
  QueryList query;            // raw names and values; a name without value has ""
  HeaderList headers;         // names in any case, values as sent; duplicates are joined
  std::string payload_hash;   // lowercase hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

struct SigV4Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-amz-date"
  std::string signature;       // 64 hex digits
  std::string authorization;   // the Authorization header value
};

class SigV4Signer {
 public:
  static constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

  SigV4Signer(SigV4Credentials credentials, std::string region, std::string service);

  // AMZ_DATE is the request time as "YYYYMMDDTHHMMSSZ", the value sent as x-amz-date.
  SigV4Signature Sign(const SigV4Request& request, std::string_view amz_date) const;

  const SigV4Credentials& credentials() const { return credentials_; }
  const std::string& region() const { return region_; }

  // "YYYYMMDDTHHMMSSZ" in UTC.
  static std::string AmzDate(std::chrono::system_clock::time_point t);
  // RFC 3986 percent-encoding of everything except A-Za-z0-9-._~ (and '/' unless
  // ENCODE_SLASH), with uppercase hex digits.
  static std::string UriEncode(std::string_view s, bool encode_slash);
  // Encoded, sorted by name then value, joined with '&'.
  static std::string CanonicalQueryString(const QueryList& query);
  // HMAC chain "AWS4"+secret -> date -> region -> service -> "aws4_request" (raw bytes).
  static std::string DeriveSigningKey(std::string_view secret, std::string_view date8,
                                      std::string_view region, std::string_view service);

 private:
  std::string SigningKeyFor(std::string_view date8) const;

  SigV4Credentials credentials_;
  std::string region_;
  std::string service_;
  mutable std::mutex key_mu_;
  mutable std::string key_date_;  // guarded by key_mu_
  mutable std::string key_;       // guarded by key_mu_
};

}  // namespace strata
