// LeaseKeeper: renews one migration claim in the background for as long as the migration
// runs (upload AND read-back verify), so a large study never outlives its lease while its
// holder is alive. A renewal the catalog refuses (the claim was taken over or ran out) marks
// the claim lost; the migration checks lost() between steps and aborts before the switch,
// which is fenced in the catalog anyway.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "index/catalog.h"

namespace strata {

class LeaseKeeper {
 public:
  // STATE gives the state to record with each renewal.
  LeaseKeeper(Catalog* catalog, MigrationFence fence, int64_t lease_ms, std::function<std::string()> state);
  ~LeaseKeeper();  // stops

  void Start();
  void Stop();
  bool lost() const { return lost_.load(); }

 private:
  Catalog* catalog_;
  MigrationFence fence_;
  int64_t lease_ms_;
  std::function<std::string()> state_;
  std::atomic<bool> lost_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace strata
