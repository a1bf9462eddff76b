#include "archive/prefetch_reader.h"

#include <span>

#include "archive/read_run.h"

namespace strata {

PrefetchReader::PrefetchReader(Archive* archive, std::vector<InstanceRecord> records, Transform transform)
    : archive_(archive),
      records_(std::move(records)),
      transform_(std::move(transform)),
      ahead_(static_cast<size_t>(std::max(2, archive->options().read_ahead))) {
  for (const auto& r : records_)
    if (!corrections_.count(r.study_uid)) corrections_.emplace(r.study_uid, archive_->catalog()->ListCorrections(r.study_uid));
  while (CanLaunch()) Launch();
}

PrefetchReader::~PrefetchReader() {
  for (auto& t : inflight_)
    if (!t.fetched) t.results.wait();
}

// At most AHEAD tasks, and about AHEAD MB of stored bytes, in flight (the first task always
// goes, whatever its size).
bool PrefetchReader::CanLaunch() const {
  return next_launch_ < records_.size() && inflight_.size() < ahead_ &&
         (inflight_.empty() || inflight_bytes_ < uint64_t{ahead_} << 20);
}

void PrefetchReader::Launch() {
  const std::span<const InstanceRecord> rest(records_.data() + next_launch_, records_.size() - next_launch_);
  // With a transform (decoding), short runs: each task transforms its entries one after the
  // other, and more tasks in flight keep both cores decoding.
  RunLimits limits;
  limits.max_bytes = archive_->options().read_run_bytes;
  if (transform_) limits.max_entries = 4;
  const std::span<const InstanceRecord> run = rest.first(PackRunLength(rest, limits));
  next_launch_ += run.size();
  Task task;
  for (const InstanceRecord& r : run) task.bytes += r.location.tier == Location::Tier::kCold ? r.location.length : r.size;
  inflight_bytes_ += task.bytes;
  task.results = std::async(std::launch::async, [this, run]() {
    // One pack holds one study, so a run has one study's corrections.
    const auto& corrections = corrections_.at(run.front().study_uid);
    std::vector<Result<std::string>> out;
    if (!corrections.ok()) {
      out.assign(run.size(), corrections.status());
      return out;
    }
    out = archive_->ReadServedRun(run, corrections.value());
    if (transform_) {
      for (size_t i = 0; i < out.size(); ++i) {
        if (out[i].ok()) out[i] = transform_(run[i], std::move(out[i]).value());
      }
    }
    return out;
  });
  inflight_.push_back(std::move(task));
}

Result<std::string> PrefetchReader::Next() {
  if (inflight_.empty()) return Status::Internal("PrefetchReader::Next called past the end");
  Task& front = inflight_.front();
  if (!front.fetched) {
    front.ready = front.results.get();
    front.fetched = true;
  }
  Result<std::string> r = std::move(front.ready[front.next++]);
  if (front.next == front.ready.size()) {
    inflight_bytes_ -= front.bytes;
    inflight_.pop_front();
  }
  while (CanLaunch()) Launch();
  return r;
}

}  // namespace strata
