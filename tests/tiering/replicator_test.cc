// The replica backup queue (issue 16): packs copied to a second store and counted
// "replicated" only once the replica's copy was read back and verified; failures (a store
// down, a copy silently damaged on its way) are retried with backoff; packs that go are
// removed from the replica; tombstones follow.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "archive/correction_log.h"
#include "archive/delete_tombstone.h"
#include "tiering/migration_scheduler.h"
#include "tiering/replicator.h"
#include "tiering/scrub_repair.h"
#include "tiering_fixture.h"

namespace strata {
namespace {

namespace fs = std::filesystem;

// A replica store whose writes can fail (kUnavailable) or be damaged (one byte flipped, as a
// faulty disk or proxy would) a given number of times.
class FlakyStore : public ColdStore {
 public:
  explicit FlakyStore(std::unique_ptr<ColdStore> base) : base_(std::move(base)) {}
  std::atomic<int> fail_writes{0}, damage_writes{0};
  std::string Describe() const override { return "flaky:" + base_->Describe(); }
  Status Put(const std::string& key, std::string_view data) override {
    if (fail_writes > 0) {
      --fail_writes;
      return Status::Unavailable("injected: replica down");
    }
    if (damage_writes > 0 && data.size() > 100) {
      --damage_writes;
      std::string bad(data);
      bad[bad.size() / 3] ^= 0x20;
      return base_->Put(key, bad);
    }
    return base_->Put(key, data);
  }
  Result<std::unique_ptr<ObjectUpload>> StartUpload(const std::string& key) override {
    if (fail_writes > 0) {
      --fail_writes;
      return Status::Unavailable("injected: replica down");
    }
    return base_->StartUpload(key);
  }
  uint64_t min_part_size() const override { return base_->min_part_size(); }
  Result<std::string> GetRange(const std::string& k, uint64_t o, uint64_t l) override { return base_->GetRange(k, o, l); }
  Result<std::string> Get(const std::string& k) override { return base_->Get(k); }
  Result<ObjectInfo> Head(const std::string& k) override { return base_->Head(k); }
  Result<std::vector<ObjectInfo>> List(const std::string& p) override { return base_->List(p); }
  Status Delete(const std::string& k) override { return base_->Delete(k); }
  Result<std::vector<PendingUpload>> ListPendingUploads(const std::string& p) override {
    return base_->ListPendingUploads(p);
  }
  Status AbortPendingUpload(const PendingUpload& u) override { return base_->AbortPendingUpload(u); }

 private:
  std::unique_ptr<ColdStore> base_;
};

class ReplicatorTest : public testing::TwoNodes {
 protected:
  void SetUp() override {
    TwoNodes::SetUp();
    ColdStoreOptions o;
    o.url = "file:" + (dir_ / "replica").string();
    auto s = OpenColdStore(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    replica_ = std::make_unique<FlakyStore>(std::move(s).value());
  }
  void Migrate(const std::string& study) {
    MigrationScheduler conv(a_.get(), Options("n1"));
    auto r = conv.RunOnce(study, 0, nullptr);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->failed, 0u);
  }
  ReplicatorOptions Opts() {
    ReplicatorOptions o;
    o.retry_base_ms = 0;  // due again at once: the test drives the passes
    o.part_size = 1;      // multipart copies (the local store's minimum part size applies)
    return o;
  }
  std::unique_ptr<FlakyStore> replica_;
};

TEST_F(ReplicatorTest, CopiesVerifiesRetriesAndFollowsDeletes) {
  const std::string s1 = "1.2.826.0.1.3680043.10.994.1", s2 = "1.2.826.0.1.3680043.10.994.2";
  StoreImages(s1, 1, 3);
  StoreImages(s2, 1, 2);
  Migrate(s1);
  Migrate(s2);
  Catalog* cat = a_->catalog();
  auto stats = cat->GetReplicaQueueStats().value();
  EXPECT_EQ(stats.studies, 2u);
  EXPECT_EQ(stats.studies_replicated, 0u);

  Replicator rep(a_.get(), replica_.get(), Opts());
  replica_->fail_writes = 1;    // the first copy fails outright
  replica_->damage_writes = 1;  // the next one arrives damaged: the read-back must catch it
  auto r1 = rep.RunOnce();
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(r1->queued, 2u);
  EXPECT_EQ(r1->replicated, 0u);
  EXPECT_EQ(r1->failed, 2u);
  stats = cat->GetReplicaQueueStats().value();
  EXPECT_EQ(stats.pending, 2u);
  EXPECT_EQ(stats.failing, 2u);
  EXPECT_EQ(stats.studies_replicated, 0u);
  EXPECT_NE(stats.last_error.find("pack"), std::string::npos) << stats.last_error;

  auto r2 = rep.RunOnce();
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_EQ(r2->replicated, 2u);
  EXPECT_EQ(r2->failed, 0u);
  stats = cat->GetReplicaQueueStats().value();
  EXPECT_EQ(stats.replicated, 2u);
  EXPECT_EQ(stats.pending, 0u);
  EXPECT_EQ(stats.studies_replicated, 2u);
  auto packs = cat->ListPacks("");
  ASSERT_TRUE(packs.ok());
  ASSERT_EQ(packs->size(), 2u);
  for (const auto& p : packs.value()) {
    EXPECT_TRUE(Replicator::VerifyPackObject(replica_.get(), p.pack_key, p.size, p.checksum).ok()) << p.pack_key;
    std::ifstream x(dir_ / "cold" / p.pack_key, std::ios::binary), y(dir_ / "replica" / p.pack_key, std::ios::binary);
    std::stringstream xs, ys;
    xs << x.rdbuf();
    ys << y.rdbuf();
    EXPECT_EQ(xs.str(), ys.str()) << p.pack_key;
  }
  auto tasks = cat->ListReplicaTasks(s1, 0).value();
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].state, "replicated");
  EXPECT_EQ(tasks[0].attempts, 2);  // one failure, then the copy

  // Nothing more to do: no copy again.
  auto r3 = rep.RunOnce();
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3->replicated + r3->failed + r3->bytes, 0u);

  // A new generation is queued; a deleted study's pack leaves the replica, its tombstone arrives.
  const std::string old_key = cat->ListPacks(s2).value().at(0).pack_key;
  ASSERT_TRUE(a_->Delete(s2, "", "", "test").ok());
  StoreImages(s1, 2, 2);
  Migrate(s1);
  auto r4 = rep.RunOnce();
  ASSERT_TRUE(r4.ok()) << r4.status().ToString();
  EXPECT_EQ(r4->queued, 1u);
  EXPECT_EQ(r4->replicated, 1u);
  EXPECT_EQ(r4->removed, 1u);
  EXPECT_EQ(r4->tombstones, 1u);
  EXPECT_TRUE(replica_->Head(old_key).status().IsNotFound());
  stats = cat->GetReplicaQueueStats().value();
  EXPECT_EQ(stats.studies, 1u);
  EXPECT_EQ(stats.studies_replicated, 1u);
}

// Correction records (archive/correction_log.h) follow to the replica, so a catalog rebuilt
// from it re-applies them; one the primary removed (a refused change's) leaves the replica too.
TEST_F(ReplicatorTest, CorrectionRecordsFollow) {
  const std::string s = "1.2.826.0.1.3680043.10.994.7";
  StoreImages(s, 1, 2);
  ASSERT_TRUE(a_->Correct(s, {{"StudyDescription", "FIXED"}}, "t", "").ok());
  Replicator rep(a_.get(), replica_.get(), Opts());
  auto r1 = rep.RunOnce();
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(r1->correction_records, 1u);
  auto primary = a_->cold()->List(kCorrectionLogPrefix).value();
  ASSERT_EQ(primary.size(), 1u);
  EXPECT_EQ(replica_->Get(primary[0].key).value(), a_->cold()->Get(primary[0].key).value());
  // A record the primary no longer has (as if the change had been refused after a copy).
  const std::string stray = std::string(kCorrectionLogPrefix) + s + "/1-refused.json";
  ASSERT_TRUE(replica_->Put(stray, "{}").ok());
  auto r2 = rep.RunOnce();
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_EQ(r2->correction_records, 0u);
  EXPECT_TRUE(replica_->Head(stray).status().IsNotFound());
  EXPECT_TRUE(replica_->Head(primary[0].key).ok());
}

TEST_F(ReplicatorTest, BackoffDelaysTheRetry) {
  const std::string s = "1.2.826.0.1.3680043.10.994.3";
  StoreImages(s, 1, 2);
  Migrate(s);
  ReplicatorOptions o = Opts();
  o.retry_base_ms = 3600 * 1000;
  Replicator rep(a_.get(), replica_.get(), o);
  replica_->fail_writes = 1;
  auto r1 = rep.RunOnce();
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1->failed, 1u);
  auto r2 = rep.RunOnce();  // not due for an hour
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->replicated + r2->failed, 0u);
  auto t = a_->catalog()->ListReplicaTasks(s, 0).value().at(0);
  EXPECT_EQ(t.state, "pending");
  EXPECT_GT(t.next_attempt_ms, t.queued_ms + 3500 * 1000);
}

void FlipByte(const fs::path& file, uint64_t at) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(at));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(at));
  f.put(static_cast<char>(c ^ 0x5a));
}

// A corrupt entry in the primary is read from the replica at once; a pass of the repair
// restores the primary (and, the other way round, a lost replica copy); bad in both is
// reported, never "repaired".
TEST_F(ReplicatorTest, ReadsFallBackAndRepairRestoresEitherStore) {
  const std::string s = "1.2.826.0.1.3680043.10.994.4";
  StoreImages(s, 1, 3);
  Migrate(s);
  Replicator rep(a_.get(), replica_.get(), Opts());
  ASSERT_EQ(rep.RunOnce().value().replicated, 1u);
  const PackRecord pack = a_->catalog()->ListPacks(s).value().at(0);
  const auto rec = a_->catalog()->GetInstance(s + ".1.2").value();
  ASSERT_EQ(rec.location.tier, Location::Tier::kCold);
  FlipByte(dir_ / "cold" / pack.pack_key, rec.location.offset + rec.location.length / 2);

  // Without a replica the read fails; with one it returns the right bytes.
  ASSERT_EQ(a_->Read(rec).status().code(), Status::Code::kCorruption);
  {
    ArchiveOptions o = a_->options();
    o.replica.url = "file:" + (dir_ / "replica").string();
    auto with = Archive::Open(o);
    ASSERT_TRUE(with.ok()) << with.status().ToString();
    auto got = (*with)->Read(rec);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got.value(), stored_[rec.sop_uid]);
  }
  RepairOptions dry;
  dry.dry_run = true;
  auto d = RepairPacks(a_.get(), replica_.get(), dry);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->problems.size(), 1u);
  EXPECT_EQ(d->primary_restored, 0u);
  auto r = RepairPacks(a_.get(), replica_.get(), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->ok()) << r->problems.at(0);
  EXPECT_EQ(r->primary_restored, 1u);
  EXPECT_TRUE(Replicator::VerifyPackObject(a_->cold(), pack.pack_key, pack.size, pack.checksum).ok());
  EXPECT_EQ(a_->Read(rec).value(), stored_[rec.sop_uid]);

  // The replica's copy lost: restored from the primary.
  fs::remove(dir_ / "replica" / pack.pack_key);
  r = RepairPacks(a_.get(), replica_.get(), {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->replica_restored, 1u);
  EXPECT_TRUE(Replicator::VerifyPackObject(replica_.get(), pack.pack_key, pack.size, pack.checksum).ok());

  // Missing in the primary and corrupt in the replica: unrecoverable, nothing written.
  fs::remove(dir_ / "cold" / pack.pack_key);
  FlipByte(dir_ / "replica" / pack.pack_key, rec.location.offset + 1);
  r = RepairPacks(a_.get(), replica_.get(), {});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->problems.size(), 1u);
  EXPECT_NE(r->problems[0].find("unrecoverable"), std::string::npos) << r->problems[0];
  EXPECT_EQ(r->primary_restored + r->replica_restored, 0u);
  EXPECT_FALSE(fs::exists(dir_ / "cold" / pack.pack_key));
}

// A compaction retires a replicated pack: its replica copy stays until the compacted pack is
// replicated, then goes.
TEST_F(ReplicatorTest, RetiredCopyStaysUntilItsSuccessorIsReplicated) {
  const std::string s = "1.2.826.0.1.3680043.10.994.5";
  StoreImages(s, 1, 3);
  Migrate(s);
  Replicator rep(a_.get(), replica_.get(), Opts());
  ASSERT_EQ(rep.RunOnce().value().replicated, 1u);
  const std::string old_key = a_->catalog()->ListPacks(s).value().at(0).pack_key;
  ASSERT_TRUE(a_->Delete(s, "", s + ".1.2", "test").ok());
  Migrate(s);  // compaction: a new generation without the deleted entry
  auto packs = a_->catalog()->ListPacks(s).value();
  ASSERT_EQ(packs.size(), 1u);
  ASSERT_NE(packs[0].pack_key, old_key);
  auto r1 = rep.RunOnce();
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(r1->replicated, 1u);
  EXPECT_EQ(r1->removed, 0u);  // the successor was pending when the pass began
  EXPECT_TRUE(replica_->Head(old_key).ok());
  auto r2 = rep.RunOnce();
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->removed, 1u);
  EXPECT_TRUE(replica_->Head(old_key).status().IsNotFound());
  EXPECT_TRUE(replica_->Head(packs[0].pack_key).ok());
}

}  // namespace
}  // namespace strata
