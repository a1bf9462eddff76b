#include "cold/s3_client.h"

#include <charconv>
#include <chrono>
#include <optional>
#include <spdlog/spdlog.h>
#include <thread>

#include "cold/digest.h"
#include "cold/s3_messages.h"

namespace strata {
namespace {

bool IsSuccess(long status) { return status >= 200 && status < 300; }

bool IsRetryableS3Code(const std::string& code) {
  return code == "InternalError" || code == "SlowDown" || code == "ServiceUnavailable" ||
         code == "RequestTimeout" || code == "RequestTimeTooSkewed";
}

std::optional<int> RetryAfterSeconds(const HttpResponse& resp) {
  const std::string* v = resp.Header("retry-after");
  if (v == nullptr) return std::nullopt;
  int secs = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), secs);
  if (ec != std::errc() || p != v->data() + v->size() || secs < 0) return std::nullopt;
  return secs;
}

}  // namespace

S3Client::S3Client(S3Config config, S3Endpoint endpoint)
    : config_(std::move(config)),
      endpoint_(std::move(endpoint)),
      signer_(config_.credentials, config_.region, "s3"),
      http_(config_.http) {}

std::string S3Client::What(const S3Call& call) const {
  std::string w = call.method + " s3://" + config_.bucket + "/" + call.key;
  for (const auto& [k, v] : call.query) {
    if (k == "uploadId") w += " (upload " + v + ")";
    if (k == "partNumber") w += " part " + v;
  }
  return w;
}

Status S3Client::ErrorFrom(const S3Call& call, const HttpResponse& resp) const {
  std::optional<S3Error> err = ParseS3Error(resp.body);
  std::string code = err ? err->code : "";
  std::string msg = "S3 " + What(call) + ": HTTP " + std::to_string(resp.status);
  if (!code.empty()) msg += " " + code;
  if (err && !err->message.empty()) msg += ": " + err->message;
  if (err && !err->request_id.empty()) msg += " (request " + err->request_id + ")";
  long st = resp.status;
  if (st == 404 || code.rfind("NoSuch", 0) == 0) return Status::NotFound(msg);
  if (code == "BadDigest" || code == "XAmzContentSHA256Mismatch" || code == "InvalidDigest") {
    return Status::Corruption(msg);
  }
  if (code == "QuotaExceeded" || st == 507) {
    return Status::NoSpace(msg);
  }
  if (IsRetryableHttpStatus(st) || IsRetryableS3Code(code)) return Status::Unavailable(msg);
  if (st == 409) return Status::Conflict(msg);
  if (st == 400 || st == 411 || st == 416) return Status::InvalidArgument(msg);
  return Status::IOError(msg);
}

Result<HttpResponse> S3Client::Execute(const S3Call& call, int* attempts) const {
  const std::string payload_hash = (config_.sign_payload || call.body.empty())
                                       ? Sha256Hex(call.body)
                                       : std::string(SigV4Signer::kUnsignedPayload);
  HttpRequest req;
  req.method = call.method;
  req.url = endpoint_.Url(call.key, call.query);
  req.body = call.body;
  req.expected_response_bytes = call.expected_response_bytes;

  Status last;
  std::optional<int> retry_after;
  const int max_attempts = config_.retry.max_retries + 1;
  for (int attempt = 1; attempt <= max_attempts; ++attempt) {
    if (attempts) *attempts = attempt;
    if (attempt > 1) {
      auto delay = config_.retry.Delay(attempt - 1, retry_after);
      spdlog::debug("cold: {} failed ({}), retry {} in {} ms", What(call), last.message(),
                    attempt - 1, delay.count());
      std::this_thread::sleep_for(delay);
    }
    retry_after.reset();
    const std::string amz_date = SigV4Signer::AmzDate(std::chrono::system_clock::now());
    HeaderList headers = {{"Host", endpoint_.HostHeader()},
                          {"x-amz-date", amz_date},
                          {"x-amz-content-sha256", payload_hash}};
    if (!config_.credentials.session_token.empty()) {
      headers.emplace_back("x-amz-security-token", config_.credentials.session_token);
    }
    headers.insert(headers.end(), call.headers.begin(), call.headers.end());
    SigV4Request sreq{call.method, endpoint_.Path(call.key), call.query, headers, payload_hash};
    headers.emplace_back("Authorization", signer_.Sign(sreq, amz_date).authorization);
    req.headers = std::move(headers);

    auto resp = http_.Perform(req);
    if (!resp.ok()) {
      if (resp.status().code() != Status::Code::kUnavailable) return resp.status();
      last = resp.status();
      continue;
    }
    if (IsSuccess(resp->status) || resp->status == call.pass_status) {
      if (call.body_may_hold_error) {
        if (auto err = ParseS3Error(resp->body)) {
          last = ErrorFrom(call, *resp);
          if (IsRetryableS3Code(err->code)) continue;
          return last;
        }
      }
      return std::move(resp).value();
    }
    last = ErrorFrom(call, *resp);
    std::optional<S3Error> err = ParseS3Error(resp->body);
    if (!IsRetryableHttpStatus(resp->status) && !(err && IsRetryableS3Code(err->code))) {
      return last;
    }
    retry_after = RetryAfterSeconds(*resp);
  }
  return Status::Unavailable(last.message() + " (gave up after " + std::to_string(max_attempts) +
                             " attempts)");
}

}  // namespace strata
