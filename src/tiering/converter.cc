#include "tiering/converter.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <deque>
#include <future>
#include <set>

#include "pack/pack_reader.h"
#include "pack/pack_writer.h"
#include "tiering/pack_codec.h"
#include "util/checksum.h"
#include "util/log.h"

namespace strata {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string DateDaysAgo(int64_t ms_ago) {
  std::time_t t = static_cast<std::time_t>((NowMs() - ms_ago) / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y%m%d", &tm);
  return buf;
}

// The claim owner is "<node>/<pid>": another process of this node can tell a dead claim
// from a live one at once instead of waiting for the lease to run out.
std::string OwnerId(const std::string& node) { return node + "/" + std::to_string(getpid()); }

bool OwnerIsDeadLocalProcess(const std::string& owner, const std::string& node) {
  auto slash = owner.rfind('/');
  if (slash == std::string::npos || owner.substr(0, slash) != node) return false;
  pid_t pid = static_cast<pid_t>(std::atoll(owner.c_str() + slash + 1));
  if (pid <= 0 || pid == getpid()) return false;
  return kill(pid, 0) != 0 && errno == ESRCH;
}

nlohmann::json StudyMetadata(const InstanceRecord& r, const std::string& node, int64_t now) {
  return {{"PatientID", r.patient_id},
          {"IssuerOfPatientID", r.issuer},
          {"PatientName", r.patient_name},
          {"PatientBirthDate", r.birth_date},
          {"PatientSex", r.sex},
          {"StudyInstanceUID", r.study_uid},
          {"StudyDate", r.study_date},
          {"StudyTime", r.study_time},
          {"AccessionNumber", r.accession},
          {"StudyID", r.study_id},
          {"StudyDescription", r.study_description},
          {"ReferringPhysicianName", r.referring_physician},
          {"PackedBy", node},
          {"PackedAtMs", now}};
}

// Buffers the pack stream into parts and uploads them, several at once.
class PartUploader {
 public:
  PartUploader(ObjectUpload* upload, uint64_t part_size, int parallel)
      : upload_(upload), part_size_(part_size), parallel_(std::max(1, parallel)) {}
  ~PartUploader() { Drain(); }

  Status Write(std::string_view bytes) {
    while (!bytes.empty()) {
      size_t take = std::min<size_t>(bytes.size(), part_size_ - buffer_.size());
      buffer_.append(bytes.data(), take);
      bytes.remove_prefix(take);
      if (buffer_.size() == part_size_) STRATA_RETURN_IF_ERROR(Flush());
    }
    return Status::OK();
  }
  Status Finish() {
    if (!buffer_.empty() || next_part_ == 1) STRATA_RETURN_IF_ERROR(Flush());
    return Drain();
  }

 private:
  Status Flush() {
    while (inflight_.size() >= static_cast<size_t>(parallel_)) STRATA_RETURN_IF_ERROR(WaitOldest());
    auto data = std::make_shared<std::string>(std::move(buffer_));
    buffer_.clear();
    buffer_.reserve(part_size_);
    int n = next_part_++;
    inflight_.push_back(std::async(std::launch::async, [this, n, data] { return upload_->PutPart(n, *data); }));
    return Status::OK();
  }
  Status WaitOldest() {
    Status s = inflight_.front().get();
    inflight_.pop_front();
    return s;
  }
  Status Drain() {
    Status first;
    while (!inflight_.empty()) {
      Status s = WaitOldest();
      if (first.ok() && !s.ok()) first = s;
    }
    return first;
  }

  ObjectUpload* upload_;
  uint64_t part_size_;
  int parallel_;
  std::string buffer_;
  int next_part_ = 1;
  std::deque<std::future<Status>> inflight_;
};

}  // namespace

Converter::Converter(Archive* archive, ConverterOptions options) : archive_(archive), opt_(std::move(options)) {}

Converter::~Converter() { Stop(); }

bool Converter::InWindow(const std::string& window, int minute) {
  if (window.empty()) return true;
  int h1, m1, h2, m2;
  if (std::sscanf(window.c_str(), "%d:%d-%d:%d", &h1, &m1, &h2, &m2) != 4) return true;
  int a = h1 * 60 + m1, b = h2 * 60 + m2;
  if (a <= b) return minute >= a && minute < b;
  return minute >= a || minute < b;  // wraps midnight, e.g. 22:00-06:00
}

std::string Converter::NewPackKey(const std::string& study_uid) const {
  std::string node;
  for (char c : opt_.node_id) node += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.') ? c : '_';
  const std::string h = HexU64(Xxh3(study_uid));
  return "packs/" + h.substr(0, 2) + "/" + study_uid + "/" + std::to_string(NowMs()) + "-" + node + "-" +
         std::to_string(getpid()) + ".zip";
}

Status Converter::MigrateStudy(const std::string& study_uid, MigrationReport* report,
                               const MigrationProgress& progress) {
  Catalog* cat = archive_->catalog();
  ColdStore* cold = archive_->cold();
  const std::string owner = OwnerId(opt_.node_id);
  const std::string key = NewPackKey(study_uid);
  int64_t now = NowMs();
  STRATA_RETURN_IF_ERROR(cat->ClaimMigration(study_uid, owner, key, now, now + opt_.lease_ms));
  auto fail = [&](const Status& s) {
    (void)cat->UpdateMigration(study_uid, owner, "failed", s.ToString().substr(0, 500), NowMs());
    spdlog::warn("event=migrate_failed study={} pack={} error=\"{}\"", study_uid, key, s.ToString());
    return s;
  };

  auto all = cat->ListInstances(study_uid, "", "");
  if (!all.ok()) return fail(all.status());
  std::vector<InstanceRecord> hot;
  for (auto& r : all.value())
    if (r.location.tier == Location::Tier::kHot) hot.push_back(std::move(r));
  if (hot.empty()) {
    (void)cat->UpdateMigration(study_uid, owner, "done", "nothing hot", NowMs());
    return Status::OK();
  }
  auto existing_packs = cat->ListPacks(study_uid);
  const int64_t generation = existing_packs.ok() ? static_cast<int64_t>(existing_packs->size()) + 1 : 1;

  // 1. Build and upload.
  auto upload = cold->StartUpload(key);
  if (!upload.ok()) return fail(upload.status());
  const uint64_t part = std::max<uint64_t>(opt_.part_size, cold->min_part_size());
  auto uploader = std::make_unique<PartUploader>(upload->get(), part, opt_.parallel_parts);
  PackWriter writer([&](std::string_view b) { return uploader->Write(b); });
  std::vector<Location> locations;
  std::vector<std::string> sops, hot_paths;
  int64_t last_renew = NowMs();
  uint64_t bytes_in = 0;
  uint64_t proofs = 0, proof_failures = 0;
  Status st;
  // Reading (and, with a codec, encoding) runs ahead on worker threads so both cores stay
  // busy; entries are added to the pack strictly in order.
  struct Prepared {
    Status status;
    PackEntryInfo info;
    std::string stored;
    uint64_t original_size = 0;
    bool proof_failed = false;
  };
  auto prepare = [this](const InstanceRecord& r) {
    Prepared p;
    p.info = PackEntryInfo{r.series_uid, r.sop_uid, r.sop_class_uid, r.transfer_syntax, "", std::nullopt, std::nullopt};
    auto bytes = archive_->Read(r);  // verifies the hot file's checksum
    if (!bytes.ok()) {
      p.status = bytes.status();
      return p;
    }
    p.stored = std::move(bytes).value();
    p.original_size = p.stored.size();
    if (opt_.transcoder.fn) {
      auto t = opt_.transcoder.fn(r, p.stored);
      if (t.ok()) {
        p.info.original_transfer_syntax = r.transfer_syntax;
        p.info.original_size = p.original_size;
        uint64_t x = 0;
        ParseHexU64(r.checksum, &x);
        p.info.original_xxh3 = x;
        p.stored = std::move(t.value().bytes);
        p.info.transfer_syntax = t.value().transfer_syntax;
        p.info.lossless_verified = t.value().lossless_verified;
      } else if (IsLosslessProofFailure(t.status())) {
        p.proof_failed = true;  // stored as received
      }
    }
    return p;
  };
  const size_t ahead = std::max<size_t>(2, std::thread::hardware_concurrency() + 1);
  std::deque<std::future<Prepared>> inflight;
  size_t next = 0;
  for (size_t idx = 0; idx < hot.size(); ++idx) {
    while (next < hot.size() && inflight.size() < ahead)
      inflight.push_back(std::async(std::launch::async, prepare, std::cref(hot[next++])));
    Prepared prep = inflight.front().get();
    inflight.pop_front();
    const InstanceRecord& r = hot[idx];
    if (!prep.status.ok()) {
      st = prep.status;
      break;
    }
    if (prep.info.lossless_verified) ++proofs;
    if (prep.proof_failed) ++proof_failures;
    PackEntryInfo& info = prep.info;
    std::string& stored = prep.stored;
    const uint64_t original_size = prep.original_size;
    auto entry = writer.AddEntry(info, stored);
    if (!entry.ok()) {
      st = entry.status();
      break;
    }
    Location loc;
    loc.tier = Location::Tier::kCold;
    loc.pack_key = key;
    loc.offset = entry->offset;
    loc.length = entry->length;
    loc.entry_checksum = HexU64(entry->xxh3);
    loc.entry_syntax = entry->transfer_syntax;
    loc.hot_path = r.location.hot_path;  // the trail until the hot file is deleted
    locations.push_back(loc);
    sops.push_back(r.sop_uid);
    hot_paths.push_back(r.location.hot_path);
    bytes_in += original_size;
    if (progress) progress(1, original_size, study_uid);
    if (NowMs() - last_renew > opt_.lease_ms / 3) {
      last_renew = NowMs();
      if (Status s = cat->UpdateMigration(study_uid, owner, "claimed", "", last_renew, last_renew + opt_.lease_ms);
          !s.ok()) {
        st = s;
        break;
      }
    }
  }
  for (auto& f : inflight) f.wait();  // stopped early: let the readers finish before unwinding
  Result<PackSummary> summary = Status::Internal("not finished");
  if (st.ok()) {
    summary = writer.Finish(StudyMetadata(hot.front(), opt_.node_id, NowMs()));
    if (!summary.ok()) st = summary.status();
  }
  if (st.ok()) st = uploader->Finish();
  uploader.reset();
  if (st.ok()) st = (*upload)->Complete();
  if (!st.ok()) {
    (void)(*upload)->Abort();
    return fail(st);
  }
  if (Status s = cat->UpdateMigration(study_uid, owner, "uploaded", "", NowMs(), NowMs() + opt_.lease_ms); !s.ok())
    return fail(s);

  // 2. Read back and verify every entry before anything points at the pack.
  auto head = cold->Head(key);
  if (!head.ok()) return fail(head.status());
  if (head->size != summary->total_size)
    return fail(Status::Corruption("pack " + key + " is " + std::to_string(head->size) + " bytes in the store, wrote " +
                                   std::to_string(summary->total_size)));
  auto reader = PackReader::Open([cold, &key](uint64_t o, uint64_t l) { return cold->GetRange(key, o, l); },
                                 head->size, key);
  if (!reader.ok()) return fail(reader.status());
  PackVerifyReport vr = reader->Verify();
  if (!vr.ok()) {
    (void)cold->Delete(key);
    return fail(vr.ToStatus());
  }

  // 3. Switch the catalog in one transaction.
  PackRecord pack{key, study_uid, generation, summary->total_size, summary->entries.size(),
                  HexU64(summary->manifest_xxh3), NowMs()};
  auto switched = cat->SwitchToPack(pack, sops, hot_paths, locations);
  if (!switched.ok()) {
    (void)cold->Delete(key);  // nothing points at it: the switch rolled back
    return fail(switched.status());
  }
  (void)cat->UpdateMigration(study_uid, owner, "switched", "", NowMs());

  // 4. Delete the hot copies of what moved.
  std::vector<std::string> cleared;
  uint64_t moved = 0;
  for (size_t i = 0; i < sops.size(); ++i) {
    if (!switched.value()[i]) continue;  // replaced meanwhile: its hot file stays
    ++moved;
    if (archive_->hot()->Remove(hot_paths[i]).ok()) cleared.push_back(sops[i]);
  }
  if (Status s = cat->ClearHotPaths(cleared); !s.ok()) return fail(s);
  (void)cat->UpdateMigration(study_uid, owner, "done", "", NowMs());
  report->studies += 1;
  report->instances += moved;
  report->bytes_in += bytes_in;
  report->pack_bytes += summary->total_size;
  report->lossless_verified += proofs;
  report->lossless_proof_failed += proof_failures;
  spdlog::info("event=migrated study={} pack={} generation={} instances={} bytes_in={} pack_bytes={}", study_uid, key,
               generation, moved, bytes_in, summary->total_size);
  return Status::OK();
}

Status Converter::Cleanup() {
  Catalog* cat = archive_->catalog();
  ColdStore* cold = archive_->cold();
  const int64_t now = NowMs();
  // 1. Hot files of switched instances that a crash kept from being deleted.
  for (;;) {
    STRATA_ASSIGN_OR_RETURN(auto left, cat->ListLeftoverHotFiles(1000));
    if (left.empty()) break;
    std::vector<std::string> cleared;
    for (const auto& r : left)
      if (archive_->hot()->Remove(r.location.hot_path).ok()) cleared.push_back(r.sop_uid);
    STRATA_RETURN_IF_ERROR(cat->ClearHotPaths(cleared));
    spdlog::info("event=cleanup_hot_leftovers files={}", cleared.size());
    if (cleared.size() < left.size()) break;
  }
  // 2. Claims whose holder is gone: their objects are not referenced unless the switch committed.
  STRATA_ASSIGN_OR_RETURN(auto migrations, cat->ListMigrations(1000000));
  std::set<std::string> live_keys;
  for (const auto& m : migrations) {
    const bool unfinished = m.state != "done" && m.state != "failed";
    if (!unfinished) continue;
    const bool dead = m.lease_until_ms <= now || OwnerIsDeadLocalProcess(m.node, opt_.node_id);
    if (!dead) {
      live_keys.insert(m.pack_key);
      continue;
    }
    (void)cat->UpdateMigration(m.study_uid, m.node, "failed", "interrupted (" + m.state + "); cleaned up", now);
  }
  std::set<std::string> referenced;
  STRATA_ASSIGN_OR_RETURN(auto packs, cat->ListPacks(""));
  for (const auto& p : packs) referenced.insert(p.pack_key);
  // 3. Multipart uploads nobody will complete. An upload killed before it recorded its key
  // has none: it is aborted when no claim is live (or when it is old), since a live one might
  // be that young upload's owner.
  STRATA_ASSIGN_OR_RETURN(auto pending, cold->ListPendingUploads(""));
  for (const auto& u : pending) {
    if (live_keys.count(u.key)) continue;
    if (u.key.empty() ? (!live_keys.empty() && now - u.initiated_ms < opt_.lease_ms)
                      : u.key.rfind("packs/", 0) != 0)
      continue;
    Status s = cold->AbortPendingUpload(u);
    spdlog::info("event=cleanup_abort_upload key={} status=\"{}\"", u.key, s.ToString());
  }
  // 4. Pack objects the catalog does not reference (a crash before the switch committed).
  STRATA_ASSIGN_OR_RETURN(auto objects, cold->List("packs/"));
  for (const auto& o : objects) {
    if (referenced.count(o.key) || live_keys.count(o.key)) continue;
    Status s = cold->Delete(o.key);
    spdlog::info("event=cleanup_orphan_pack key={} status=\"{}\"", o.key, s.ToString());
  }
  return Status::OK();
}

Result<MigrationReport> Converter::RunOnce(const std::string& study_uid, int64_t older_than_ms,
                                           const MigrationProgress& progress) {
  auto t0 = std::chrono::steady_clock::now();
  MigrationReport report;
  STRATA_RETURN_IF_ERROR(Cleanup());
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
    if (!study_uid.empty()) break;
    std::lock_guard<std::mutex> lk(mu_);
    if (stop_) break;
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

void Converter::Start() {
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

void Converter::Stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace strata
