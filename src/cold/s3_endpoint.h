// S3Endpoint: where the requests for one bucket go, in either addressing style.
//   path-style:      http://host:port/bucket/key        (Ceph RGW, MinIO; the default)
//   virtual-hosted:  https://bucket.host/key            (AWS's preferred style)
// Contract: Path() gives the raw path the request is signed with, Url() the same request
// encoded for the wire, HostHeader() the exact Host value (port only when not the scheme's
// default) - the three always agree, so what is signed is what is sent.
#pragma once

#include <string>
#include <string_view>

#include "cold/sigv4_signer.h"
#include "util/status.h"

namespace strata {

class S3Endpoint {
 public:
  // ENDPOINT_URL is "http[s]://host[:port][/]" (no path). BUCKET must be a valid S3 bucket
  // name (3-63 of a-z 0-9 . -, starting and ending with a letter or digit).
  static Result<S3Endpoint> Create(std::string_view endpoint_url, std::string bucket,
                                   bool path_style);

  // Raw path for OBJECT_KEY, or for the bucket itself when OBJECT_KEY is empty.
  std::string Path(std::string_view object_key) const;
  // Scheme, host, encoded path and encoded query.
  std::string Url(std::string_view object_key, const QueryList& query) const;
  const std::string& HostHeader() const { return host_header_; }

  bool https() const { return https_; }
  bool path_style() const { return path_style_; }
  const std::string& bucket() const { return bucket_; }
  // "http://host:port" as given (normalised, no trailing slash).
  std::string endpoint() const;

 private:
  bool https_ = false;
  bool path_style_ = true;
  std::string host_;         // as in the URL (IPv6 literals keep their brackets)
  std::string port_;         // "" = scheme default
  std::string bucket_;
  std::string host_header_;  // what goes on the wire (and into the signature)
};

}  // namespace strata
