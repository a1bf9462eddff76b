// S3Config: everything an S3ColdStore needs, and the one place where the "s3://bucket[/prefix]"
// URL and the AWS_* environment are turned into it. Precedence, per setting: the configured
// value (ColdStoreOptions), then the environment (AWS_REGION, AWS_DEFAULT_REGION;
// AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL; AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, whose pair
// is used only when no key is configured, with AWS_SESSION_TOKEN unless a token is configured),
// then the default (region us-east-1, AWS's regional endpoint).
#pragma once

#include <cstdint>
#include <string>

#include "cold/cold_store.h"
#include "cold/http_client.h"
#include "cold/retry_policy.h"
#include "cold/sigv4_signer.h"

namespace strata {

struct S3Config {
  std::string endpoint;       // "http[s]://host[:port]"
  std::string bucket;
  std::string prefix;         // "" or "a/b" (no leading or trailing '/')
  std::string region = "us-east-1";
  SigV4Credentials credentials;
  bool path_style = true;
  bool sign_payload = true;
  bool endpoint_is_aws = false;  // no endpoint was configured: AWS's regional one is used
  HttpClientOptions http;
  RetryPolicy retry;
  int list_page_size = 1000;  // max-keys / max-uploads per listing request
  uint64_t min_part_size = 5ull << 20;

  // From OPTIONS (url "s3://bucket[/prefix]") with the environment fallbacks described in
  // ColdStoreOptions. Missing credentials are kInvalidArgument.
  static Result<S3Config> FromOptions(const ColdStoreOptions& options);
};

}  // namespace strata
