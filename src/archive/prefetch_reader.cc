#include "archive/prefetch_reader.h"

namespace strata {

PrefetchReader::PrefetchReader(Archive* archive, std::vector<InstanceRecord> records, Transform transform)
    : archive_(archive),
      records_(std::move(records)),
      transform_(std::move(transform)),
      ahead_(static_cast<size_t>(std::max(2, archive->options().read_ahead))) {
  for (const auto& r : records_)
    if (!corrections_.count(r.study_uid)) corrections_.emplace(r.study_uid, archive_->catalog()->ListCorrections(r.study_uid));
  while (inflight_.size() < ahead_ && next_launch_ < records_.size()) Launch();
}

PrefetchReader::~PrefetchReader() {
  for (auto& f : inflight_) f.wait();
}

void PrefetchReader::Launch() {
  const InstanceRecord* rec = &records_[next_launch_++];
  inflight_.push_back(std::async(std::launch::async, [this, rec]() -> Result<std::string> {
    const auto& corrections = corrections_.at(rec->study_uid);
    if (!corrections.ok()) return corrections.status();
    auto bytes = archive_->ReadServed(*rec, corrections.value());
    if (!bytes.ok() || !transform_) return bytes;
    return transform_(*rec, std::move(bytes).value());
  }));
}

Result<std::string> PrefetchReader::Next() {
  if (inflight_.empty()) return Status::Internal("PrefetchReader::Next called past the end");
  Result<std::string> r = inflight_.front().get();
  inflight_.pop_front();
  if (next_launch_ < records_.size()) Launch();
  return r;
}

}  // namespace strata
