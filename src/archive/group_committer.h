// GroupCommitter: many concurrent stores share one catalog transaction and one fsync per
// directory. Each store submits its record and blocks until the batch holding it is durable.
#pragma once

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "index/catalog.h"

namespace strata {

class GroupCommitter {
 public:
  GroupCommitter(Catalog* catalog, bool replace_duplicates, size_t max_batch = 256);
  ~GroupCommitter();  // commits what is queued, then stops

  // Makes DIRS durable and adds RECORD to the catalog; returns once both are on disk.
  Result<AddResult> Commit(const InstanceRecord& record, std::vector<std::string> dirs);

  uint64_t batches() const { return batches_; }

 private:
  struct Item {
    InstanceRecord record;
    std::vector<std::string> dirs;
    std::promise<Result<AddResult>> done;
  };
  void Run();
  void CommitBatch(std::vector<Item*>& batch);

  Catalog* catalog_;
  bool replace_;
  size_t max_batch_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item*> queue_;
  bool stop_ = false;
  uint64_t batches_ = 0;
  std::thread thread_;
};

}  // namespace strata
