#include "archive/group_committer.h"

#include "util/file_util.h"
#include "util/log.h"

namespace strata {

GroupCommitter::GroupCommitter(Catalog* catalog, Env* env, std::string hot_root, bool replace_duplicates,
                               size_t max_batch)
    : catalog_(catalog),
      dirs_(env, std::move(hot_root)),
      replace_(replace_duplicates),
      max_batch_(max_batch),
      thread_([this] { Run(); }) {}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

Result<AddResult> GroupCommitter::Commit(const InstanceRecord& record) {
  Item item{record, {}};
  auto fut = item.done.get_future();
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (stop_) return Status::Unavailable("archive is shutting down");
    queue_.push_back(&item);
  }
  cv_.notify_one();
  return fut.get();
}

void GroupCommitter::Run() {
  std::vector<Item*> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty() && stop_) return;
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    CommitBatch(batch);
    batch.clear();
  }
}

void GroupCommitter::CommitBatch(std::vector<Item*>& batch) {
  ++batches_;
  std::vector<std::string> names;
  names.reserve(batch.size());
  for (const Item* it : batch) names.push_back(it->record.location.hot_path);
  Status sync = dirs_.SyncNames(names);
  if (!sync.ok()) {
    for (Item* it : batch) it->done.set_value(sync);
    return;
  }
  std::vector<InstanceRecord> records;
  records.reserve(batch.size());
  for (Item* it : batch) records.push_back(it->record);
  auto res = catalog_->AddInstances(records, replace_);
  if (res.status().code() == Status::Code::kUnknownOutcome) {
    // Never retried blindly and never answered blindly: each store learns what is there.
    spdlog::warn("group commit of {} instances: outcome unknown ({}); reading back", batch.size(),
                 res.status().ToString());
    for (Item* it : batch) it->done.set_value(ReadBack(it->record, res.status()));
    return;
  }
  if (res.ok()) {
    for (size_t i = 0; i < batch.size(); ++i) batch[i]->done.set_value(std::move(res.value()[i]));
    return;
  }
  if (batch.size() == 1) {
    batch[0]->done.set_value(res.status());
    return;
  }
  // One bad record must not fail its neighbours: retry one by one.
  spdlog::warn("group commit of {} instances failed ({}); committing one by one", batch.size(),
               res.status().ToString());
  for (Item* it : batch) {
    auto one = catalog_->AddInstances({it->record}, replace_);
    if (one.ok()) it->done.set_value(std::move(one.value()[0]));
    else if (one.status().code() == Status::Code::kUnknownOutcome) it->done.set_value(ReadBack(it->record, one.status()));
    else it->done.set_value(one.status());
  }
}

Result<AddResult> GroupCommitter::ReadBack(const InstanceRecord& record, const Status& why) {
  auto now = catalog_->GetInstance(record.sop_uid);
  if (now.status().IsNotFound()) {
    spdlog::warn("event=commit_unknown sop={} read_back=absent", record.sop_uid);
    return Status::Unavailable("catalog commit lost (" + why.message() + "); " + record.sop_uid +
                               " was not added, send it again");
  }
  if (!now.ok()) {
    spdlog::error("event=commit_unknown sop={} read_back_failed={} hot_path={} (kept)", record.sop_uid,
                  now.status().ToString(), record.location.hot_path);
    return Status::UnknownOutcome("catalog commit outcome unknown (" + why.message() + ") and the read-back failed (" +
                                  now.status().message() + ")");
  }
  const Location& loc = now->location;
  const bool ours = loc.tier == Location::Tier::kHot && loc.hot_path == record.location.hot_path;
  if (now->checksum == record.checksum) {
    spdlog::info("event=commit_unknown sop={} read_back=present", record.sop_uid);
    AddResult ar;
    if (ours) return ar;  // kAdded: the row points at the file this store placed
    ar.outcome = AddOutcome::kIdentical;
    ar.previous = now.value();
    return ar;
  }
  if (ours) {
    // Other content at our path (a checksum-prefix collision): the file is referenced.
    return Status::UnknownOutcome("catalog row of " + record.sop_uid + " points at " + loc.hot_path +
                                  " with another checksum");
  }
  // Another version is current (ours was not added, or was replaced since): nothing points at
  // our file, and this store did not take effect.
  spdlog::warn("event=commit_unknown sop={} read_back=other_content", record.sop_uid);
  return Status::Unavailable("catalog commit lost (" + why.message() + "); " + record.sop_uid +
                             " holds other content now, send it again");
}

}  // namespace strata
