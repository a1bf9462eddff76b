#include "archive/prefetch_reader.h"

namespace strata {

PrefetchReader::PrefetchReader(Archive* archive, std::vector<InstanceRecord> records)
    : archive_(archive),
      records_(std::move(records)),
      capacity_(static_cast<size_t>(std::max(2, archive->options().read_ahead))) {
  thread_ = std::thread([this] {
    Status s = archive_->ReadStream(records_, [this](const InstanceRecord&, Result<std::string>&& r) -> Status {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return cancel_ || ready_.size() < capacity_; });
      if (cancel_) return Status::Unavailable("cancelled");
      ready_.push_back(std::move(r));
      cv_.notify_all();
      return Status::OK();
    });
    (void)s;
  });
}

PrefetchReader::~PrefetchReader() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    cancel_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

Result<std::string> PrefetchReader::Next() {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [&] { return !ready_.empty(); });
  Result<std::string> r = std::move(ready_.front());
  ready_.pop_front();
  cv_.notify_all();
  return r;
}

}  // namespace strata
