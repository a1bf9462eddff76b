#include "cold/s3_endpoint.h"

namespace strata {
namespace {

Status ValidateBucketName(const std::string& b) {
  if (b.size() < 3 || b.size() > 63) {
    return Status::InvalidArgument("S3 bucket name \"" + b + "\" must be 3-63 characters");
  }
  for (char c : b) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    if (!ok) {
      return Status::InvalidArgument("S3 bucket name \"" + b +
                                     "\" may only contain a-z, 0-9, '.' and '-'");
    }
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(b.front()) || !alnum(b.back())) {
    return Status::InvalidArgument("S3 bucket name \"" + b +
                                   "\" must start and end with a letter or digit");
  }
  if (b.find("..") != std::string::npos) {
    return Status::InvalidArgument("S3 bucket name \"" + b + "\" contains \"..\"");
  }
  return Status::OK();
}

}  // namespace

Result<S3Endpoint> S3Endpoint::Create(std::string_view url, std::string bucket, bool path_style) {
  S3Endpoint e;
  if (url.substr(0, 8) == "https://") {
    e.https_ = true;
    url.remove_prefix(8);
  } else if (url.substr(0, 7) == "http://") {
    url.remove_prefix(7);
  } else {
    return Status::InvalidArgument("S3 endpoint \"" + std::string(url) +
                                   "\" must start with http:// or https://");
  }
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  if (url.empty() || url.find('/') != std::string_view::npos ||
      url.find_first_of("?#@ ") != std::string_view::npos) {
    return Status::InvalidArgument("S3 endpoint must be scheme://host[:port] without a path");
  }
  size_t colon = std::string_view::npos;
  if (url.front() == '[') {
    size_t close = url.find(']');
    if (close == std::string_view::npos) return Status::InvalidArgument("bad IPv6 endpoint");
    e.host_ = std::string(url.substr(0, close + 1));
    if (close + 1 < url.size()) {
      if (url[close + 1] != ':') return Status::InvalidArgument("bad IPv6 endpoint");
      colon = close + 1;
    }
  } else {
    colon = url.find(':');
    e.host_ = std::string(url.substr(0, colon));
  }
  if (colon != std::string_view::npos) {
    e.port_ = std::string(url.substr(colon + 1));
    if (e.port_.empty() || e.port_.find_first_not_of("0123456789") != std::string::npos) {
      return Status::InvalidArgument("bad port in S3 endpoint \"" + std::string(url) + "\"");
    }
    if ((e.https_ && e.port_ == "443") || (!e.https_ && e.port_ == "80")) e.port_.clear();
  }
  if (e.host_.empty()) return Status::InvalidArgument("S3 endpoint without a host");
  STRATA_RETURN_IF_ERROR(ValidateBucketName(bucket));
  if (!path_style && e.host_.front() == '[') {
    return Status::InvalidArgument("virtual-hosted addressing needs a host name, not an IP");
  }
  e.bucket_ = std::move(bucket);
  e.path_style_ = path_style;
  std::string host = path_style ? e.host_ : e.bucket_ + "." + e.host_;
  e.host_header_ = e.port_.empty() ? host : host + ":" + e.port_;
  return e;
}

std::string S3Endpoint::Path(std::string_view object_key) const {
  std::string p = "/";
  if (path_style_) {
    p += bucket_;
    if (!object_key.empty()) p += "/";
  }
  p += object_key;
  return p;
}

std::string S3Endpoint::Url(std::string_view object_key, const QueryList& query) const {
  std::string url = (https_ ? "https://" : "http://") + host_header_ +
                    SigV4Signer::UriEncode(Path(object_key), /*encode_slash=*/false);
  if (!query.empty()) {
    url += '?';
    bool first = true;
    for (const auto& [k, v] : query) {
      if (!first) url += '&';
      first = false;
      url += SigV4Signer::UriEncode(k, true);
      if (!v.empty()) url += "=" + SigV4Signer::UriEncode(v, true);
    }
  }
  return url;
}

std::string S3Endpoint::endpoint() const {
  return (https_ ? "https://" : "http://") + host_ + (port_.empty() ? "" : ":" + port_);
}

}  // namespace strata
