#include "tiering/migration_scheduler.h"

#include <chrono>
#include <ctime>
#include <set>

#include "tiering/janitor.h"
#include "tiering/study_migration.h"
#include "util/clock.h"
#include "archive/retention.h"
#include "util/log.h"

namespace strata {

namespace {

std::string DateDaysAgo(int64_t ms_ago) {
  std::time_t t = static_cast<std::time_t>((NowMs() - ms_ago) / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y%m%d", &tm);
  return buf;
}

}  // namespace

MigrationScheduler::MigrationScheduler(Archive* archive, TieringOptions options) : archive_(archive), opt_(std::move(options)) {}

MigrationScheduler::~MigrationScheduler() { Stop(); }

bool MigrationScheduler::InWindow(const std::string& window, int minute) {
  if (window.empty()) return true;
  int h1, m1, h2, m2;
  if (std::sscanf(window.c_str(), "%d:%d-%d:%d", &h1, &m1, &h2, &m2) != 4) return true;
  int a = h1 * 60 + m1, b = h2 * 60 + m2;
  if (a <= b) return minute >= a && minute < b;
  return minute >= a || minute < b;  // wraps midnight, e.g. 22:00-06:00
}

Status MigrationScheduler::MigrateStudy(const std::string& study_uid, MigrationReport* report,
                               const MigrationProgress& progress) {
  StudyMigration m(archive_, opt_, study_uid);
  return m.Run(report, progress);
}

Status MigrationScheduler::Cleanup() { return Janitor(archive_, opt_).Run(); }

void MigrationScheduler::RunBatch(const std::vector<std::string>& batch, MigrationReport* total,
                         const MigrationProgress& progress) {
  MigrationReport& report = *total;
  // Several studies at once: each is I/O plus (with a codec) CPU-heavy encoding.
  std::mutex mu;
  size_t next = 0;
  auto worker = [&] {
    for (;;) {
      std::string uid;
      {
        std::lock_guard<std::mutex> lk(mu);
        if (next >= batch.size()) return;
        uid = batch[next++];
      }
      MigrationReport one;
      Status s = MigrateStudy(uid, &one, progress);
      std::lock_guard<std::mutex> lk(mu);
      if (s.ok()) {
        report.studies += one.studies;
        report.instances += one.instances;
        report.bytes_in += one.bytes_in;
        report.pack_bytes += one.pack_bytes;
        report.lossless_verified += one.lossless_verified;
        report.lossless_proof_failed += one.lossless_proof_failed;
        report.compacted_packs += one.compacted_packs;
      } else if (s.code() == Status::Code::kConflict) {
        ++report.skipped;
      } else {
        ++report.failed;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < std::max(1, opt_.studies_at_once); ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
}

Result<MigrationReport> MigrationScheduler::RunOnce(const std::string& study_uid, int64_t older_than_ms,
                                           const MigrationProgress& progress) {
  auto t0 = std::chrono::steady_clock::now();
  MigrationReport report;
  STRATA_RETURN_IF_ERROR(Cleanup());
  // Retention: only with rules configured; each expired study goes through the delete path.
  if (!opt_.retention_keep_days.empty() && study_uid.empty()) {  // not for `migrate --study`
    RetentionPolicy pol;
    pol.keep_days = opt_.retention_keep_days;
    auto gone = ApplyRetention(archive_, pol, TodayYmd(), "policy:lifecycle.retention@" + opt_.node_id);
    if (!gone.ok()) spdlog::warn("event=retention_failed error=\"{}\"", gone.status().ToString());
  }
  // IOCM grace period over: the rejected instances go through the delete path; their pack
  // entries are compacted below, in this same pass (first: a study migrated below is
  // compacted by its migration and not looked at again).
  if (opt_.rejected_delete_after_ms >= 0 && study_uid.empty()) {
    auto n = archive_->DeleteRejected(opt_.rejected_delete_after_ms, 256,
                                      "policy:lifecycle.rejected_delete_after@" + opt_.node_id);
    if (!n.ok()) spdlog::warn("event=rejected_delete_failed error=\"{}\"", n.status().ToString());
    else if (*n) spdlog::info("event=rejected_deleted instances={}", *n);
  }
  MigrationPolicy pol;
  const int64_t age = older_than_ms >= 0 ? older_than_ms : opt_.older_than_ms;
  pol.received_before_ms = NowMs() - age + (age == 0 ? 1 : 0);
  if (opt_.study_date_older_than_ms > 0 && older_than_ms < 0)
    pol.study_date_before = DateDaysAgo(opt_.study_date_older_than_ms);
  pol.study_uid = study_uid;
  pol.limit = 64;
  std::set<std::string> tried;
  for (;;) {
    STRATA_ASSIGN_OR_RETURN(auto todo, archive_->catalog()->StudiesToMigrate(pol, NowMs()));
    std::vector<std::string> batch;
    for (const auto& s : todo)
      if (tried.insert(s.study_uid).second) batch.push_back(s.study_uid);
    if (batch.empty()) break;
    RunBatch(batch, &report, progress);
    if (!study_uid.empty()) break;
    std::lock_guard<std::mutex> lk(mu_);
    if (stop_) break;
  }
  // Compaction: studies whose packs hold entries of deleted instances, whatever their age
  // (a delete should free its space soon). A study migrated above was compacted by it.
  STRATA_ASSIGN_OR_RETURN(auto thin, archive_->catalog()->StudiesToCompact(64));
  std::vector<std::string> compact;
  for (const auto& uid : thin)
    if ((study_uid.empty() || uid == study_uid) && tried.insert(uid).second) compact.push_back(uid);
  if (!compact.empty()) RunBatch(compact, &report, progress);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

void MigrationScheduler::Start() {
  thread_ = std::thread([this] {
    for (;;) {
      {
        std::unique_lock<std::mutex> lk(mu_);
        if (cv_.wait_for(lk, std::chrono::milliseconds(opt_.interval_ms), [&] { return stop_; })) return;
      }
      std::time_t t = std::time(nullptr);
      std::tm tm{};
      localtime_r(&t, &tm);
      if (!InWindow(opt_.window, tm.tm_hour * 60 + tm.tm_min)) continue;
      auto r = RunOnce("", -1);
      if (!r.ok()) spdlog::warn("event=converter_run error=\"{}\"", r.status().ToString());
      else if (r->studies || r->failed)
        spdlog::info("event=converter_run studies={} instances={} failed={} seconds={:.1f}", r->studies,
                     r->instances, r->failed, r->seconds);
    }
  });
}

void MigrationScheduler::Stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace strata
