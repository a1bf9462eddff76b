#include "cold/sigv4_signer.h"

#include <algorithm>
#include <ctime>

#include "cold/digest.h"

namespace strata {
namespace {

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Trims leading/trailing whitespace and collapses inner runs of spaces into one space.
std::string CanonicalHeaderValue(std::string_view v) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  std::string out;
  out.reserve(v.size());
  bool pending_space = false;
  for (char c : v) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

}  // namespace

SigV4Signer::SigV4Signer(SigV4Credentials credentials, std::string region, std::string service)
    : credentials_(std::move(credentials)), region_(std::move(region)), service_(std::move(service)) {}

std::string SigV4Signer::AmzDate(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string SigV4Signer::UriEncode(std::string_view s, bool encode_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  for (unsigned char c : s) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved || (c == '/' && !encode_slash)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::string SigV4Signer::CanonicalQueryString(const QueryList& query) {
  std::vector<std::pair<std::string, std::string>> enc;
  enc.reserve(query.size());
  for (const auto& [k, v] : query) enc.emplace_back(UriEncode(k, true), UriEncode(v, true));
  std::sort(enc.begin(), enc.end());
  std::string out;
  for (const auto& [k, v] : enc) {
    if (!out.empty()) out += '&';
    out += k;
    out += '=';
    out += v;
  }
  return out;
}

std::string SigV4Signer::DeriveSigningKey(std::string_view secret, std::string_view date8,
                                          std::string_view region, std::string_view service) {
  std::string k = HmacSha256("AWS4" + std::string(secret), date8);
  k = HmacSha256(k, region);
  k = HmacSha256(k, service);
  return HmacSha256(k, "aws4_request");
}

std::string SigV4Signer::SigningKeyFor(std::string_view date8) const {
  std::lock_guard<std::mutex> lock(key_mu_);
  if (key_date_ != date8) {
    key_ = DeriveSigningKey(credentials_.secret_key, date8, region_, service_);
    key_date_ = std::string(date8);
  }
  return key_;
}

SigV4Signature SigV4Signer::Sign(const SigV4Request& request, std::string_view amz_date) const {
  // Canonical headers: lowercase names, sorted; values trimmed; repeated names joined by ','
  // in the order given (stable sort keeps that order).
  std::vector<std::pair<std::string, std::string>> hdrs;
  hdrs.reserve(request.headers.size());
  for (const auto& [name, value] : request.headers) {
    hdrs.emplace_back(ToLower(name), CanonicalHeaderValue(value));
  }
  std::stable_sort(hdrs.begin(), hdrs.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string canonical_headers;
  std::string signed_headers;
  for (size_t i = 0; i < hdrs.size(); ++i) {
    if (i > 0 && hdrs[i].first == hdrs[i - 1].first) {
      canonical_headers.back() = ',';  // replace the '\n' of the previous line
      canonical_headers += hdrs[i].second;
      canonical_headers += '\n';
      continue;
    }
    canonical_headers += hdrs[i].first;
    canonical_headers += ':';
    canonical_headers += hdrs[i].second;
    canonical_headers += '\n';
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += hdrs[i].first;
  }

  SigV4Signature out;
  out.signed_headers = signed_headers;
  out.canonical_request = request.method + "\n" +
                          UriEncode(request.path.empty() ? "/" : request.path, false) + "\n" +
                          CanonicalQueryString(request.query) + "\n" + canonical_headers + "\n" +
                          signed_headers + "\n" + request.payload_hash;

  std::string_view date8 = amz_date.substr(0, 8);
  std::string scope = std::string(date8) + "/" + region_ + "/" + service_ + "/aws4_request";
  out.string_to_sign = "AWS4-HMAC-SHA256\n" + std::string(amz_date) + "\n" + scope + "\n" +
                       Sha256Hex(out.canonical_request);
  out.signature = HexEncode(HmacSha256(SigningKeyFor(date8), out.string_to_sign));
  out.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials_.access_key + "/" + scope +
                      ", SignedHeaders=" + signed_headers + ", Signature=" + out.signature;
  return out;
}

}  // namespace strata
