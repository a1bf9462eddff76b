#include "tiering/lease_keeper.h"

#include <algorithm>
#include <chrono>

#include "util/log.h"

namespace strata {

LeaseKeeper::LeaseKeeper(Catalog* catalog, MigrationFence fence, int64_t lease_ms,
                         std::function<std::string()> state)
    : catalog_(catalog), fence_(std::move(fence)), lease_ms_(lease_ms), state_(std::move(state)) {}

LeaseKeeper::~LeaseKeeper() { Stop(); }

void LeaseKeeper::Start() {
  thread_ = std::thread([this] {
    // Renew at a third of the lease: two renewals may fail transiently before it runs out.
    const auto every = std::chrono::milliseconds(std::max<int64_t>(1, lease_ms_ / 3));
    std::unique_lock<std::mutex> lk(mu_);
    while (!cv_.wait_for(lk, every, [&] { return stop_; })) {
      lk.unlock();
      Status s = catalog_->RenewMigration(fence_.study_uid, fence_.token, state_(), lease_ms_);
      lk.lock();
      if (s.code() == Status::Code::kConflict) {
        lost_ = true;
        spdlog::warn("event=migrate_claim_lost study={} token={} error=\"{}\"", fence_.study_uid, fence_.token,
                     s.ToString());
        return;
      }
      if (!s.ok()) spdlog::warn("event=migrate_renew_failed study={} error=\"{}\"", fence_.study_uid, s.ToString());
    }
  });
}

void LeaseKeeper::Stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace strata
