// S3ColdStore's multipart side: S3ObjectUpload (UploadPart, CompleteMultipartUpload,
// AbortMultipartUpload) and the listing and abort of uploads left pending.
#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <spdlog/spdlog.h>
#include <tuple>

#include "cold/digest.h"
#include "cold/object_key.h"
#include "cold/s3_cold_store.h"
#include "cold/s3_messages.h"

namespace strata {
namespace {

constexpr int kMaxPartNumber = 10000;

}  // namespace

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
    S3Call call;
    call.method = "PUT";
    call.key = full_key_;
    call.query = {{"partNumber", std::to_string(part_number)}, {"uploadId", id_}};
    call.headers = {{"Content-MD5", Md5Base64(data)}};
    call.body = data;
    STRATA_ASSIGN_OR_RETURN(HttpResponse resp, store_->client_.Execute(call));
    const std::string* etag = resp.Header("etag");
    if (etag == nullptr || etag->empty()) {
      return Status::Corruption("S3 " + store_->client_.What(call) + ": response without ETag");
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
    S3Call call;
    call.method = "POST";
    call.key = full_key_;
    call.query = {{"uploadId", id_}};
    call.headers = {{"Content-Type", "application/xml"}, {"Content-MD5", Md5Base64(body)}};
    call.body = body;
    call.body_may_hold_error = true;
    int attempts = 0;
    auto resp = store_->client_.Execute(call, &attempts);
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
    S3Call call;
    call.method = "DELETE";
    call.key = full_key_;
    call.query = {{"uploadId", id_}};
    auto resp = store_->client_.Execute(call);
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

Result<std::unique_ptr<ObjectUpload>> S3ColdStore::StartUpload(const std::string& key) {
  STRATA_RETURN_IF_ERROR(ValidateObjectKey(key));
  S3Call call;
  call.method = "POST";
  call.key = FullKey(key);
  call.query = {{"uploads", ""}};
  call.headers = {{"Content-Type", "application/octet-stream"}};
  STRATA_ASSIGN_OR_RETURN(HttpResponse resp, client_.Execute(call));
  STRATA_ASSIGN_OR_RETURN(std::string id, ParseInitiateMultipartUpload(resp.body));
  return std::unique_ptr<ObjectUpload>(new S3ObjectUpload(this, key, call.key, std::move(id)));
}

Result<std::vector<PendingUpload>> S3ColdStore::ListPendingUploads(const std::string& prefix) {
  STRATA_RETURN_IF_ERROR(ValidateKeyPrefix(prefix));
  std::vector<PendingUpload> out;
  std::string key_marker, id_marker;
  while (true) {
    S3Call call;
    call.method = "GET";
    call.query = {{"uploads", ""},
                  {"prefix", FullKey(prefix)},
                  {"max-uploads", std::to_string(client_.config().list_page_size)}};
    if (!key_marker.empty()) call.query.emplace_back("key-marker", key_marker);
    if (!id_marker.empty()) call.query.emplace_back("upload-id-marker", id_marker);
    STRATA_ASSIGN_OR_RETURN(HttpResponse resp, client_.Execute(call));
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
  S3Call call;
  call.method = "DELETE";
  call.key = FullKey(upload.key);
  call.query = {{"uploadId", upload.upload_id}};
  auto resp = client_.Execute(call);
  if (!resp.ok() && !resp.status().IsNotFound()) return resp.status();
  return Status::OK();
}

}  // namespace strata
