// Digests for the S3 wire protocol, computed with OpenSSL: SHA-256 (SigV4 payload and
// canonical-request hashes), HMAC-SHA256 (the SigV4 signing-key chain) and MD5 (Content-MD5
// on every uploaded body). Pure functions, safe from any thread. The "raw" variants return
// the digest bytes; the Hex/Base64 helpers turn them into the text forms HTTP headers use.
#pragma once

#include <string>
#include <string_view>

namespace strata {

std::string Sha256(std::string_view data);                       // 32 raw bytes
std::string Sha256Hex(std::string_view data);                    // 64 lowercase hex digits
std::string HmacSha256(std::string_view key, std::string_view data);  // 32 raw bytes
std::string Md5(std::string_view data);                          // 16 raw bytes
std::string Md5Base64(std::string_view data);                    // Content-MD5 header value

std::string HexEncode(std::string_view bytes);                   // lowercase
std::string Base64Encode(std::string_view bytes);                // standard alphabet, padded

}  // namespace strata
