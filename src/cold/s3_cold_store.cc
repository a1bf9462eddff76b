#include "cold/s3_cold_store.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdlib>
#include <map>
#include <mutex>
#include <spdlog/spdlog.h>
#include <thread>
#include <tuple>

#include "cold/digest.h"
#include "cold/object_key.h"
#include "cold/s3_messages.h"
#include "util/checksum.h"

namespace strata {
namespace {

constexpr int kMaxPartNumber = 10000;
constexpr const char* kXxh3Header = "x-amz-meta-xxh3";

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

bool ParseU64(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string Unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------------------
class S3ObjectUpload final : public ObjectUpload {
 public:
  S3ObjectUpload(S3ColdStore* store, std::string key, std::string full_key, std::string id)
      : store_(store), key_(std::move(key)), full_key_(std::move(full_key)), id_(std::move(id)) {}

  ~S3ObjectUpload() override {
    if (state_.load() == State::kOpen) {
      Status s = Abort();
      if (!s.ok()) {
        spdlog::warn("cold: abort of unfinished upload {} of {} failed: {}", id_, key_, s.ToString());
      }
    }
  }

  Status PutPart(int part_number, std::string_view data) override {
    if (state_.load() != State::kOpen) {
      return Status::InvalidArgument("upload of " + key_ + " is already completed or aborted");
    }
    if (part_number < 1 || part_number > kMaxPartNumber) {
      return Status::InvalidArgument("part number " + std::to_string(part_number) +
                                     " outside 1..10000");
    }
    S3ColdStore::Call call;
    call.method = "PUT";
    call.key = full_key_;
    call.query = {{"partNumber", std::to_string(part_number)}, {"uploadId", id_}};
    call.headers = {{"Content-MD5", Md5Base64(data)}};
    call.body = data;
    STRATA_ASSIGN_OR_RETURN(HttpResponse resp, store_->Execute(call));
    const std::string* etag = resp.Header("etag");
    if (etag == nullptr || etag->empty()) {
      return Status::Corruption("S3 " + store_->What(call) + ": response without ETag");
    }
    std::lock_guard<std::mutex> lock(mu_);
    parts_[part_number] = {*etag, data.size()};
    return Status::OK();
  }

  Status Complete() override {
    std::lock_guard<std::mutex> lock(complete_mu_);
    if (state_.load() == State::kCompleted) return Status::OK();
    if (state_.load() == State::kAborted) {
      return Status::InvalidArgument("upload of " + key_ + " was aborted");
    }
    std::vector<std::pair<int, std::string>> list;
    uint64_t total = 0;
    {
      std::lock_guard<std::mutex> parts_lock(mu_);
      if (parts_.empty()) return Status::InvalidArgument("upload of " + key_ + " has no parts");
      size_t i = 0;
      for (const auto& [n, part] : parts_) {
        if (++i < parts_.size() && part.size < store_->min_part_size()) {
          return Status::InvalidArgument(
              "part " + std::to_string(n) + " of " + key_ + " is " + std::to_string(part.size) +
              " bytes, below the minimum part size " + std::to_string(store_->min_part_size()) +
              " (only the last part may be smaller)");
        }
        list.emplace_back(n, part.etag);
        total += part.size;
      }
    }
    std::string body = BuildCompleteMultipartUpload(list);
    S3ColdStore::Call call;
    call.method = "POST";
    call.key = full_key_;
    call.query = {{"uploadId", id_}};
    call.headers = {{"Content-Type", "application/xml"}, {"Content-MD5", Md5Base64(body)}};
    call.body = body;
    call.body_may_hold_error = true;
    int attempts = 0;
    auto resp = store_->Execute(call, &attempts);
    if (!resp.ok()) {
      // A retried Complete whose first attempt succeeded (response lost) finds the upload
      // gone. The object is then there with exactly the parts' size.
      if (resp.status().IsNotFound() && attempts > 1) {
        auto head = store_->Head(key_);
        if (head.ok() && head->size == total) {
          state_.store(State::kCompleted);
          return Status::OK();
        }
      }
      return resp.status();
    }
    // The ETag of the response is not used: radosgw leaves it empty.
    state_.store(State::kCompleted);
    return Status::OK();
  }

  Status Abort() override {
    std::lock_guard<std::mutex> lock(complete_mu_);
    if (state_.load() != State::kOpen) return Status::OK();
    S3ColdStore::Call call;
    call.method = "DELETE";
    call.key = full_key_;
    call.query = {{"uploadId", id_}};
    auto resp = store_->Execute(call);
    if (!resp.ok() && !resp.status().IsNotFound()) return resp.status();
    state_.store(State::kAborted);
    return Status::OK();
  }

 private:
  enum class State { kOpen, kCompleted, kAborted };
  struct Part {
    std::string etag;
    uint64_t size = 0;
  };

  S3ColdStore* store_;
  const std::string key_;
  const std::string full_key_;
  const std::string id_;
  std::mutex complete_mu_;  // serialises Complete and Abort
  std::mutex mu_;           // guards parts_
  std::map<int, Part> parts_;
  std::atomic<State> state_{State::kOpen};
};

// ---------------------------------------------------------------------------------------
Result<std::unique_ptr<S3ColdStore>> S3ColdStore::Open(S3Config config) {
  STRATA_ASSIGN_OR_RETURN(S3Endpoint endpoint,
                          S3Endpoint::Create(config.endpoint, config.bucket, config.path_style));
  if (config.credentials.access_key.empty() || config.credentials.secret_key.empty()) {
    return Status::InvalidArgument("S3 credentials missing for bucket " + config.bucket);
  }
  if (config.list_page_size < 1 || config.list_page_size > 1000) {
    return Status::InvalidArgument("S3 list page size must be 1..1000");
  }
  return std::unique_ptr<S3ColdStore>(new S3ColdStore(std::move(config), std::move(endpoint)));
}

S3ColdStore::S3ColdStore(S3Config config, S3Endpoint endpoint)
    : config_(std::move(config)),
      endpoint_(std::move(endpoint)),
      signer_(config_.credentials, config_.region, "s3"),
      http_(config_.http) {}

std::string S3ColdStore::Describe() const {
  return "s3://" + config_.bucket + (config_.prefix.empty() ? "" : "/" + config_.prefix) + "@" +
         endpoint_.endpoint();
}

std::string S3ColdStore::FullKey(const std::string& key) const {
  return config_.prefix.empty() ? key : config_.prefix + "/" + key;
}

bool S3ColdStore::StripPrefix(const std::string& full, std::string* key) const {
  if (config_.prefix.empty()) {
    *key = full;
    return true;
  }
  std::string p = config_.prefix + "/";
  if (full.compare(0, p.size(), p) != 0) return false;
  *key = full.substr(p.size());
  return true;
}

std::string S3ColdStore::What(const Call& call) const {
  std::string w = call.method + " s3://" + config_.bucket + "/" + call.key;
  for (const auto& [k, v] : call.query) {
    if (k == "uploadId") w += " (upload " + v + ")";
    if (k == "partNumber") w += " part " + v;
  }
  return w;
}

Status S3ColdStore::ErrorFrom(const Call& call, const HttpResponse& resp) const {
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

Result<HttpResponse> S3ColdStore::Execute(const Call& call, int* attempts) {
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

Status S3ColdStore::Put(const std::string& key, std::string_view data) {
  STRATA_RETURN_IF_ERROR(ValidateObjectKey(key));
  Call call;
  call.method = "PUT";
  call.key = FullKey(key);
  call.headers = {{"Content-Type", "application/octet-stream"},
                  {"Content-MD5", Md5Base64(data)},
                  {kXxh3Header, Xxh3Hex(data)}};
  call.body = data;
  return Execute(call).status();
}

Result<std::unique_ptr<ObjectUpload>> S3ColdStore::StartUpload(const std::string& key) {
  STRATA_RETURN_IF_ERROR(ValidateObjectKey(key));
  Call call;
  call.method = "POST";
  call.key = FullKey(key);
  call.query = {{"uploads", ""}};
  call.headers = {{"Content-Type", "application/octet-stream"}};
  STRATA_ASSIGN_OR_RETURN(HttpResponse resp, Execute(call));
  STRATA_ASSIGN_OR_RETURN(std::string id, ParseInitiateMultipartUpload(resp.body));
  return std::unique_ptr<ObjectUpload>(new S3ObjectUpload(this, key, call.key, std::move(id)));
}

Result<std::string> S3ColdStore::GetRange(const std::string& key, uint64_t offset,
                                          uint64_t length) {
  STRATA_RETURN_IF_ERROR(ValidateObjectKey(key));
  if (length == 0) return Status::InvalidArgument("empty range of " + key);
  if (offset > UINT64_MAX - length) return Status::InvalidArgument("range overflows");
  const uint64_t last = offset + length - 1;
  Call call;
  call.method = "GET";
  call.key = FullKey(key);
  call.headers = {{"Range", "bytes=" + std::to_string(offset) + "-" + std::to_string(last)}};
  call.expected_response_bytes = length;
  call.pass_status = 416;  // Range Not Satisfiable: the range starts past the end
  auto past_end = [&](const std::string& size) {
    return Status::InvalidArgument("range [" + std::to_string(offset) + ", +" +
                                   std::to_string(length) + ") is past the end of " + key +
                                   " (" + size + " bytes)");
  };
  STRATA_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
  HttpResponse* resp = &response;
  if (resp->status == 416) {
    const std::string* cr = resp->Header("content-range");  // "bytes */TOTAL"
    size_t sl = cr ? cr->find('/') : std::string::npos;
    return past_end(sl != std::string::npos ? cr->substr(sl + 1) : "fewer");
  }
  const std::string* cr = resp->Header("content-range");
  if (resp->status == 200 && cr == nullptr) {  // the server ignored Range: the whole object
    if (resp->body.size() < offset + length) return past_end(std::to_string(resp->body.size()));
    return resp->body.substr(offset, length);
  }
  if ((resp->status != 200 && resp->status != 206) || cr == nullptr) {
    return Status::Corruption("S3 " + What(call) + ": HTTP " + std::to_string(resp->status) +
                              " to a ranged GET without a Content-Range");
  }
  // Content-Range: bytes START-END/TOTAL (TOTAL may be "*")
  uint64_t start = 0, end = 0, total = 0;
  std::string_view v(*cr);
  size_t dash = v.find('-'), sl = v.find('/');
  if (v.substr(0, 6) != "bytes " || dash == std::string_view::npos || sl == std::string_view::npos ||
      sl < dash || !ParseU64(v.substr(6, dash - 6), &start) ||
      !ParseU64(v.substr(dash + 1, sl - dash - 1), &end) || end < start) {
    return Status::Corruption("S3 " + What(call) + ": bad Content-Range \"" + *cr + "\"");
  }
  const bool total_known = ParseU64(v.substr(sl + 1), &total);
  if (start != offset) {
    return Status::Corruption("S3 " + What(call) + ": asked for bytes from " +
                              std::to_string(offset) + ", got \"" + *cr + "\"");
  }
  if (total_known && last >= total) return past_end(std::to_string(total));
  if (resp->body.size() == length && end == last) return std::move(resp->body);
  if (resp->body.size() < length && resp->body.size() == end - start + 1) {
    return past_end(total_known ? std::to_string(total) : "fewer");  // a short final range
  }
  return Status::Corruption("S3 " + What(call) + ": got " + std::to_string(resp->body.size()) +
                            " bytes with Content-Range \"" + *cr + "\", asked for " +
                            std::to_string(length));
}

Result<std::string> S3ColdStore::Get(const std::string& key) {
  STRATA_RETURN_IF_ERROR(ValidateObjectKey(key));
  Call call;
  call.method = "GET";
  call.key = FullKey(key);
  STRATA_ASSIGN_OR_RETURN(HttpResponse resp, Execute(call));
  if (const std::string* want = resp.Header(kXxh3Header)) {
    std::string got = Xxh3Hex(resp.body);
    if (got != *want) {
      return Status::Corruption("S3 " + What(call) + ": content XXH3 " + got +
                                " does not match the stored " + *want);
    }
  }
  return std::move(resp.body);
}

Result<ObjectInfo> S3ColdStore::Head(const std::string& key) {
  STRATA_RETURN_IF_ERROR(ValidateObjectKey(key));
  Call call;
  call.method = "HEAD";
  call.key = FullKey(key);
  STRATA_ASSIGN_OR_RETURN(HttpResponse resp, Execute(call));
  ObjectInfo info;
  info.key = key;
  const std::string* len = resp.Header("content-length");
  if (len == nullptr || !ParseU64(*len, &info.size)) {
    return Status::Corruption("S3 " + What(call) + ": no Content-Length");
  }
  if (const std::string* etag = resp.Header("etag")) info.etag = Unquote(*etag);
  if (const std::string* lm = resp.Header("last-modified")) {
    info.modified_ms = ParseHttpDateMs(*lm).value_or(0);
  }
  return info;
}

Result<std::vector<ObjectInfo>> S3ColdStore::List(const std::string& prefix) {
  STRATA_RETURN_IF_ERROR(ValidateKeyPrefix(prefix));
  std::vector<ObjectInfo> out;
  std::string token;
  while (true) {
    Call call;
    call.method = "GET";
    call.query = {{"list-type", "2"},
                  {"prefix", FullKey(prefix)},
                  {"max-keys", std::to_string(config_.list_page_size)}};
    if (!token.empty()) call.query.emplace_back("continuation-token", token);
    STRATA_ASSIGN_OR_RETURN(HttpResponse resp, Execute(call));
    STRATA_ASSIGN_OR_RETURN(S3ListPage page, ParseListObjectsV2(resp.body));
    for (auto& obj : page.objects) {
      std::string key;
      if (!StripPrefix(obj.key, &key)) continue;
      obj.key = std::move(key);
      obj.etag = Unquote(std::move(obj.etag));
      out.push_back(std::move(obj));
    }
    if (!page.truncated) break;
    if (page.next_continuation_token == token) {
      return Status::Corruption("S3 listing of " + prefix + " repeats its continuation token");
    }
    token = std::move(page.next_continuation_token);
  }
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

Status S3ColdStore::Delete(const std::string& key) {
  STRATA_RETURN_IF_ERROR(ValidateObjectKey(key));
  Call call;
  call.method = "DELETE";
  call.key = FullKey(key);
  auto resp = Execute(call);
  if (!resp.ok() && !resp.status().IsNotFound()) return resp.status();
  return Status::OK();
}

Result<std::vector<PendingUpload>> S3ColdStore::ListPendingUploads(const std::string& prefix) {
  STRATA_RETURN_IF_ERROR(ValidateKeyPrefix(prefix));
  std::vector<PendingUpload> out;
  std::string key_marker, id_marker;
  while (true) {
    Call call;
    call.method = "GET";
    call.query = {{"uploads", ""},
                  {"prefix", FullKey(prefix)},
                  {"max-uploads", std::to_string(config_.list_page_size)}};
    if (!key_marker.empty()) call.query.emplace_back("key-marker", key_marker);
    if (!id_marker.empty()) call.query.emplace_back("upload-id-marker", id_marker);
    STRATA_ASSIGN_OR_RETURN(HttpResponse resp, Execute(call));
    STRATA_ASSIGN_OR_RETURN(S3UploadsPage page, ParseListMultipartUploads(resp.body));
    for (auto& u : page.uploads) {
      std::string key;
      if (!StripPrefix(u.key, &key)) continue;
      u.key = std::move(key);
      out.push_back(std::move(u));
    }
    if (!page.truncated) break;
    if (page.next_key_marker == key_marker && page.next_upload_id_marker == id_marker) {
      return Status::Corruption("S3 upload listing of " + prefix + " does not advance");
    }
    key_marker = std::move(page.next_key_marker);
    id_marker = std::move(page.next_upload_id_marker);
  }
  std::sort(out.begin(), out.end(), [](const PendingUpload& a, const PendingUpload& b) {
    return std::tie(a.key, a.upload_id) < std::tie(b.key, b.upload_id);
  });
  return out;
}

Status S3ColdStore::AbortPendingUpload(const PendingUpload& upload) {
  STRATA_RETURN_IF_ERROR(ValidateObjectKey(upload.key));
  if (upload.upload_id.empty()) return Status::InvalidArgument("empty upload id");
  Call call;
  call.method = "DELETE";
  call.key = FullKey(upload.key);
  call.query = {{"uploadId", upload.upload_id}};
  auto resp = Execute(call);
  if (!resp.ok() && !resp.status().IsNotFound()) return resp.status();
  return Status::OK();
}

Status S3ColdStore::CreateBucket() {
  Call call;
  call.method = "PUT";
  std::string body;
  if (config_.endpoint_is_aws && config_.region != "us-east-1") {
    body = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
           "<LocationConstraint>" + config_.region + "</LocationConstraint></CreateBucketConfiguration>";
    call.headers = {{"Content-Type", "application/xml"}};
  }
  call.body = body;
  auto resp = Execute(call);
  if (resp.ok()) return Status::OK();
  if (resp.status().code() == Status::Code::kConflict) {
    if (resp.status().message().find("BucketAlreadyOwnedByYou") != std::string::npos) {
      return Status::OK();
    }
    Call head;
    head.method = "HEAD";
    if (Execute(head).ok()) return Status::OK();  // exists and we may use it
  }
  return resp.status();
}

Status S3ColdStore::DeleteBucket() {
  Call call;
  call.method = "DELETE";
  auto resp = Execute(call);
  if (!resp.ok() && !resp.status().IsNotFound()) return resp.status();
  return Status::OK();
}

}  // namespace strata
