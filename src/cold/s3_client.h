// S3Client: sends one S3 REST call, signed with SigV4, over a pooled HttpClient, and retries
// what is transient. It knows requests and errors, not objects: S3ColdStore (objects,
// listings) and S3ObjectUpload (multipart) build the calls.
//
// Execute: network errors, 5xx, 429/SlowDown and 408 (and the retryable S3 codes, also inside
// a 200 whose body may hold <Error>) are retried with exponential backoff and jitter
// (retry_policy.h, honouring Retry-After), ending as kUnavailable when retries run out; any
// other failure is returned at once, mapped by ErrorFrom: 404 and NoSuch* kNotFound,
// BadDigest/XAmzContentSHA256Mismatch/InvalidDigest kCorruption, QuotaExceeded/507 kNoSpace,
// 409 kConflict, 400/411/416 kInvalidArgument, the rest kIOError; the message carries S3's
// Code, Message and RequestId. Thread-safe: calls may run from many threads at once.
#pragma once

#include <string>
#include <string_view>

#include "cold/http_client.h"
#include "cold/s3_config.h"
#include "cold/s3_endpoint.h"
#include "cold/sigv4_signer.h"

namespace strata {

struct S3Call {
  std::string method;
  std::string key;                 // full bucket key; "" = the bucket itself
  QueryList query;
  HeaderList headers;              // besides host, x-amz-*, authorization
  std::string_view body;
  bool body_may_hold_error = false;  // a 200 that can carry <Error> (CompleteMultipartUpload)
  size_t expected_response_bytes = 0;
  long pass_status = 0;            // a non-2xx status returned as a response, not an error
};

class S3Client {
 public:
  S3Client(S3Config config, S3Endpoint endpoint);

  // Signs and sends CALL, retrying transient failures (see above). ATTEMPTS (if given) gets
  // the number of requests sent.
  Result<HttpResponse> Execute(const S3Call& call, int* attempts = nullptr) const;
  // "METHOD s3://bucket/key (upload ID) part N", for messages.
  std::string What(const S3Call& call) const;

  const S3Config& config() const { return config_; }
  const S3Endpoint& endpoint() const { return endpoint_; }
  const HttpClient& http() const { return http_; }

 private:
  Status ErrorFrom(const S3Call& call, const HttpResponse& resp) const;

  const S3Config config_;
  const S3Endpoint endpoint_;
  const SigV4Signer signer_;
  mutable HttpClient http_;  // its pool is thread-safe
};

}  // namespace strata
