#include "cold/s3_cold_store.h"

#include <algorithm>
#include <charconv>

#include "cold/digest.h"
#include "cold/object_key.h"
#include "cold/s3_messages.h"
#include "util/checksum.h"

namespace strata {
namespace {

constexpr const char* kXxh3Header = "x-amz-meta-xxh3";

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

S3ColdStore::S3ColdStore(S3Config config, S3Endpoint endpoint) : client_(std::move(config), std::move(endpoint)) {}

std::string S3ColdStore::Describe() const {
  const S3Config& c = client_.config();
  return "s3://" + c.bucket + (c.prefix.empty() ? "" : "/" + c.prefix) + "@" + client_.endpoint().endpoint();
}

std::string S3ColdStore::FullKey(const std::string& key) const {
  return client_.config().prefix.empty() ? key : client_.config().prefix + "/" + key;
}

bool S3ColdStore::StripPrefix(const std::string& full, std::string* key) const {
  if (client_.config().prefix.empty()) {
    *key = full;
    return true;
  }
  std::string p = client_.config().prefix + "/";
  if (full.compare(0, p.size(), p) != 0) return false;
  *key = full.substr(p.size());
  return true;
}

Status S3ColdStore::Put(const std::string& key, std::string_view data) {
  STRATA_RETURN_IF_ERROR(ValidateObjectKey(key));
  S3Call call;
  call.method = "PUT";
  call.key = FullKey(key);
  call.headers = {{"Content-Type", "application/octet-stream"},
                  {"Content-MD5", Md5Base64(data)},
                  {kXxh3Header, Xxh3Hex(data)}};
  call.body = data;
  return client_.Execute(call).status();
}

Result<std::string> S3ColdStore::GetRange(const std::string& key, uint64_t offset,
                                          uint64_t length) {
  STRATA_RETURN_IF_ERROR(ValidateObjectKey(key));
  if (length == 0) return Status::InvalidArgument("empty range of " + key);
  if (offset > UINT64_MAX - length) return Status::InvalidArgument("range overflows");
  const uint64_t last = offset + length - 1;
  S3Call call;
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
  STRATA_ASSIGN_OR_RETURN(HttpResponse response, client_.Execute(call));
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
    return Status::Corruption("S3 " + client_.What(call) + ": HTTP " + std::to_string(resp->status) +
                              " to a ranged GET without a Content-Range");
  }
  // Content-Range: bytes START-END/TOTAL (TOTAL may be "*")
  uint64_t start = 0, end = 0, total = 0;
  std::string_view v(*cr);
  size_t dash = v.find('-'), sl = v.find('/');
  if (v.substr(0, 6) != "bytes " || dash == std::string_view::npos || sl == std::string_view::npos ||
      sl < dash || !ParseU64(v.substr(6, dash - 6), &start) ||
      !ParseU64(v.substr(dash + 1, sl - dash - 1), &end) || end < start) {
    return Status::Corruption("S3 " + client_.What(call) + ": bad Content-Range \"" + *cr + "\"");
  }
  const bool total_known = ParseU64(v.substr(sl + 1), &total);
  if (start != offset) {
    return Status::Corruption("S3 " + client_.What(call) + ": asked for bytes from " +
                              std::to_string(offset) + ", got \"" + *cr + "\"");
  }
  if (total_known && last >= total) return past_end(std::to_string(total));
  if (resp->body.size() == length && end == last) return std::move(resp->body);
  if (resp->body.size() < length && resp->body.size() == end - start + 1) {
    return past_end(total_known ? std::to_string(total) : "fewer");  // a short final range
  }
  return Status::Corruption("S3 " + client_.What(call) + ": got " + std::to_string(resp->body.size()) +
                            " bytes with Content-Range \"" + *cr + "\", asked for " +
                            std::to_string(length));
}

Result<std::string> S3ColdStore::Get(const std::string& key) {
  STRATA_RETURN_IF_ERROR(ValidateObjectKey(key));
  S3Call call;
  call.method = "GET";
  call.key = FullKey(key);
  STRATA_ASSIGN_OR_RETURN(HttpResponse resp, client_.Execute(call));
  if (const std::string* want = resp.Header(kXxh3Header)) {
    std::string got = Xxh3Hex(resp.body);
    if (got != *want) {
      return Status::Corruption("S3 " + client_.What(call) + ": content XXH3 " + got +
                                " does not match the stored " + *want);
    }
  }
  return std::move(resp.body);
}

Result<ObjectInfo> S3ColdStore::Head(const std::string& key) {
  STRATA_RETURN_IF_ERROR(ValidateObjectKey(key));
  S3Call call;
  call.method = "HEAD";
  call.key = FullKey(key);
  STRATA_ASSIGN_OR_RETURN(HttpResponse resp, client_.Execute(call));
  ObjectInfo info;
  info.key = key;
  const std::string* len = resp.Header("content-length");
  if (len == nullptr || !ParseU64(*len, &info.size)) {
    return Status::Corruption("S3 " + client_.What(call) + ": no Content-Length");
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
    S3Call call;
    call.method = "GET";
    call.query = {{"list-type", "2"},
                  {"prefix", FullKey(prefix)},
                  {"max-keys", std::to_string(client_.config().list_page_size)}};
    if (!token.empty()) call.query.emplace_back("continuation-token", token);
    STRATA_ASSIGN_OR_RETURN(HttpResponse resp, client_.Execute(call));
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
  S3Call call;
  call.method = "DELETE";
  call.key = FullKey(key);
  auto resp = client_.Execute(call);
  if (!resp.ok() && !resp.status().IsNotFound()) return resp.status();
  return Status::OK();
}

Status S3ColdStore::CreateBucket() {
  const S3Config& c = client_.config();
  S3Call call;
  call.method = "PUT";
  std::string body;
  if (c.endpoint_is_aws && c.region != "us-east-1") {
    body = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
           "<LocationConstraint>" + c.region + "</LocationConstraint></CreateBucketConfiguration>";
    call.headers = {{"Content-Type", "application/xml"}};
  }
  call.body = body;
  auto resp = client_.Execute(call);
  if (resp.ok()) return Status::OK();
  if (resp.status().code() == Status::Code::kConflict) {
    if (resp.status().message().find("BucketAlreadyOwnedByYou") != std::string::npos) {
      return Status::OK();
    }
    S3Call head;
    head.method = "HEAD";
    if (client_.Execute(head).ok()) return Status::OK();  // exists and we may use it
  }
  return resp.status();
}

Status S3ColdStore::DeleteBucket() {
  S3Call call;
  call.method = "DELETE";
  auto resp = client_.Execute(call);
  if (!resp.ok() && !resp.status().IsNotFound()) return resp.status();
  return Status::OK();
}

}  // namespace strata
