#include "cold/part_uploader.h"

#include <algorithm>
#include <memory>

namespace strata {

PartUploader::PartUploader(ObjectUpload* upload, uint64_t part_size, int parallel)
    : upload_(upload), part_size_(std::max<uint64_t>(1, part_size)), parallel_(std::max(1, parallel)) {}

PartUploader::~PartUploader() { (void)Drain(); }  // see the header: only the waiting matters here

Status PartUploader::Write(std::string_view bytes) {
  while (!bytes.empty()) {
    size_t take = std::min<size_t>(bytes.size(), part_size_ - buffer_.size());
    buffer_.append(bytes.data(), take);
    bytes.remove_prefix(take);
    if (buffer_.size() == part_size_) STRATA_RETURN_IF_ERROR(Flush());
  }
  return Status::OK();
}

Status PartUploader::Finish() {
  if (!buffer_.empty() || next_part_ == 1) STRATA_RETURN_IF_ERROR(Flush());
  return Drain();
}

Status PartUploader::Flush() {
  while (inflight_.size() >= static_cast<size_t>(parallel_)) STRATA_RETURN_IF_ERROR(WaitOldest());
  auto data = std::make_shared<std::string>(std::move(buffer_));
  buffer_.clear();
  buffer_.reserve(part_size_);
  int n = next_part_++;
  inflight_.push_back(std::async(std::launch::async, [this, n, data] { return upload_->PutPart(n, *data); }));
  return Status::OK();
}

Status PartUploader::WaitOldest() {
  Status s = inflight_.front().get();
  inflight_.pop_front();
  return s;
}

Status PartUploader::Drain() {
  Status first;
  while (!inflight_.empty()) {
    Status s = WaitOldest();
    if (first.ok() && !s.ok()) first = s;
  }
  return first;
}

}  // namespace strata
