#include "cold/s3_config.h"

#include <algorithm>
#include <cstdlib>
#include <initializer_list>

#include "cold/object_key.h"

namespace strata {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string FirstNonEmpty(std::initializer_list<std::string> values) {
  for (const auto& v : values) {
    if (!v.empty()) return v;
  }
  return "";
}

}  // namespace

Result<S3Config> S3Config::FromOptions(const ColdStoreOptions& o) {
  S3Config c;
  std::string_view url = o.url;
  if (url.substr(0, 5) != "s3://") {
    return Status::InvalidArgument("not an s3:// URL: " + o.url);
  }
  url.remove_prefix(5);
  size_t slash = url.find('/');
  c.bucket = std::string(url.substr(0, slash));
  if (slash != std::string_view::npos) {
    std::string_view prefix = url.substr(slash + 1);
    while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    c.prefix = std::string(prefix);
    if (!c.prefix.empty()) {
      Status s = ValidateObjectKey(c.prefix);
      if (!s.ok()) return s.WithContext("prefix of " + o.url);
    }
  }
  if (c.bucket.empty()) return Status::InvalidArgument("no bucket in " + o.url);

  c.region = FirstNonEmpty({o.region, Env("AWS_REGION"), Env("AWS_DEFAULT_REGION"), "us-east-1"});
  c.endpoint = FirstNonEmpty({o.endpoint, Env("AWS_ENDPOINT_URL_S3"), Env("AWS_ENDPOINT_URL")});
  if (c.endpoint.empty()) {
    c.endpoint = "https://s3." + c.region + ".amazonaws.com";
    c.endpoint_is_aws = true;
  }
  if (!o.access_key.empty() || !o.secret_key.empty()) {
    c.credentials = {o.access_key, o.secret_key, o.session_token};
  } else {
    c.credentials = {Env("AWS_ACCESS_KEY_ID"), Env("AWS_SECRET_ACCESS_KEY"),
                     FirstNonEmpty({o.session_token, Env("AWS_SESSION_TOKEN")})};
  }
  if (c.credentials.access_key.empty() || c.credentials.secret_key.empty()) {
    return Status::InvalidArgument(
        "S3 credentials missing for " + o.url +
        ": configure the access and secret key or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  }
  c.path_style = o.path_style;
  c.sign_payload = o.sign_payload;
  c.http.connect_timeout_ms = o.connect_timeout_ms;
  c.http.timeout_ms = o.timeout_ms;
  c.http.ca_file = o.ca_file;
  c.http.max_idle_handles = static_cast<size_t>(std::max(8, 2 * o.parallel_parts));
  c.retry.max_retries = std::max(0, o.max_retries);
  return c;
}

}  // namespace strata
