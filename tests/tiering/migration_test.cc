// The migration steps and the janitor, two converters (two nodes over one catalog and one
// cold store) interleaved step by step: the claim is fenced, a lost or expired claim never
// switches, the janitor never deletes a pack a live migration wrote, an ambiguous switch
// never deletes the pack, and late images converge to a bounded number of packs.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>

#include "../index/forwarding_catalog.h"
#include "tiering/janitor.h"
#include "tiering/study_migration.h"
#include "tiering_fixture.h"

namespace strata::testing {
namespace {

const std::string kStudy = "1.2.826.0.1.3680043.10.1337.1";

void Sleep(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

class MigrationTest : public TwoNodes {
 protected:
  // After everything: one janitor pass, then exactly one referenced pack per packed study,
  // no orphan object, no pending upload, no hot leftover, every image readable.
  void ExpectConverged(size_t packs) {
    auto opt = Options("nodeB");
    ASSERT_TRUE(Janitor(b_.get(), opt).Run().ok());
    EXPECT_EQ(PackRows().size(), packs);
    EXPECT_EQ(ColdObjects(), PackRows());
    EXPECT_EQ(PendingUploads(), 0u);
    EXPECT_TRUE(a_->catalog()->ListLeftoverHotFiles(10)->empty());
    ExpectAllReadable();
  }
};

TEST_F(MigrationTest, OneMigrationStepByStep) {
  StoreImages(kStudy, 1, 3);
  auto opt = Options("nodeA");
  StudyMigration m(a_.get(), opt, kStudy);
  ASSERT_TRUE(m.Claim().ok());
  ExpectAllReadable();
  ASSERT_TRUE(m.BuildAndUpload().ok());
  ExpectAllReadable();
  ASSERT_TRUE(m.Verify().ok());
  ASSERT_TRUE(m.Switch().ok());
  ExpectAllReadable();
  ASSERT_TRUE(m.DeleteHotCopies().ok());
  EXPECT_EQ(m.moved(), 3u);
  ExpectConverged(1);
  EXPECT_EQ(a_->catalog()->Stats()->hot_instances, 0u);
}

// The scenario of the brief: A claims, B's janitor runs, A uploads, A's lease runs out,
// B claims, A tries to switch (refused), B completes, the janitor runs.
TEST_F(MigrationTest, ExpiredHolderCannotSwitchOverTheNewOne) {
  StoreImages(kStudy, 1, 4);
  auto oa = Options("nodeA", 300), ob = Options("nodeB");
  StudyMigration a(a_.get(), oa, kStudy);
  ASSERT_TRUE(a.Claim().ok());
  ASSERT_TRUE(Janitor(b_.get(), ob).Run().ok());
  ASSERT_TRUE(a.BuildAndUpload().ok());
  ASSERT_TRUE(a.Verify().ok());
  Sleep(450);  // A pauses past its lease (GC, swap, VM stall)
  StudyMigration b(b_.get(), ob, kStudy);
  ASSERT_TRUE(b.Claim().ok());
  EXPECT_GT(b.token(), a.token());
  Status sa = a.Switch();
  EXPECT_EQ(sa.code(), Status::Code::kConflict) << sa.ToString();
  ExpectAllReadable();
  ASSERT_TRUE(b.BuildAndUpload().ok());
  ASSERT_TRUE(b.Verify().ok());
  ASSERT_TRUE(b.Switch().ok());
  ASSERT_TRUE(b.DeleteHotCopies().ok());
  // A "crashes" without cleaning up: its verified pack is an orphan for the janitor.
  EXPECT_EQ(ColdObjects().size(), 2u);
  ExpectConverged(1);
  EXPECT_EQ(PackRows(), std::vector<std::string>{b.pack_key()});
}

// Defect 4: a holder paused past its lease fails its switch even when nobody took over.
TEST_F(MigrationTest, PausedPastTheLeaseSwitchIsRefused) {
  StoreImages(kStudy, 1, 2);
  auto oa = Options("nodeA", 200);
  StudyMigration a(a_.get(), oa, kStudy);
  ASSERT_TRUE(a.Claim().ok());
  ASSERT_TRUE(a.BuildAndUpload().ok());
  ASSERT_TRUE(a.Verify().ok());
  Sleep(300);
  EXPECT_EQ(a.Switch().code(), Status::Code::kConflict);
  EXPECT_EQ(a.Fail(Status::Conflict("lost")).code(), Status::Code::kConflict);  // definite: deletes its object
  EXPECT_TRUE(ColdObjects().empty());
  EXPECT_TRUE(PackRows().empty());
  ExpectAllReadable();
  // The study is migrated by the next pass.
  MigrationReport rep;
  ASSERT_TRUE(StudyMigration(b_.get(), Options("nodeB"), kStudy).Run(&rep).ok());
  EXPECT_EQ(rep.instances, 2u);
  ExpectConverged(1);
}

// The background renewer keeps the claim through a long verify/switch: Run() with a lease
// far shorter than the pause before the switch still succeeds.
TEST_F(MigrationTest, LeaseIsRenewedThroughTheWholeMigration) {
  StoreImages(kStudy, 1, 2);
  auto oa = Options("nodeA", 300);
  StudyMigration a(a_.get(), oa, kStudy);
  a.set_before_switch([] { Sleep(900); });
  MigrationReport rep;
  Status s = a.Run(&rep);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(rep.instances, 2u);
  ExpectConverged(1);
}

// A renewal that fails (the claim was taken over) aborts the migration before the switch.
TEST_F(MigrationTest, LostClaimAbortsBeforeTheSwitch) {
  StoreImages(kStudy, 1, 2);
  auto oa = Options("nodeA", 300), ob = Options("nodeB");
  StudyMigration a(a_.get(), oa, kStudy);
  std::unique_ptr<StudyMigration> b;
  a.set_before_switch([&] {
    // The renewer is starved (a stalled node): the lease runs out and B takes over.
    ASSERT_TRUE(a_->catalog()->FinishMigration(kStudy, a.token(), "failed", "taken by test").ok());
    b = std::make_unique<StudyMigration>(b_.get(), ob, kStudy);
    ASSERT_TRUE(b->Claim().ok());
  });
  MigrationReport rep;
  EXPECT_EQ(a.Run(&rep).code(), Status::Code::kConflict);
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->BuildAndUpload().ok());
  ASSERT_TRUE(b->Verify().ok());
  ASSERT_TRUE(b->Switch().ok());
  ASSERT_TRUE(b->DeleteHotCopies().ok());
  ExpectConverged(1);
}

// Defect 3, every interleaving: the five steps of a migration on node A and the three steps
// of a janitor pass on node B (list the store, read the ledger, sweep), in every order that
// keeps each side's own order (C(8,3) = 56 schedules). A must always succeed, and after a
// final janitor pass exactly its pack is left.
TEST_F(MigrationTest, JanitorBesideAMigrationEveryInterleaving) {
  int schedules = 0;
  for (int mask = 0; mask < (1 << 8); ++mask) {
    if (__builtin_popcount(mask) != 3) continue;  // bit set = a janitor step
    ++schedules;
    TearDown();
    SetUp();
    stored_.clear();
    StoreImages(kStudy, 1, 2);
    auto oa = Options("nodeA"), ob = Options("nodeB");
    StudyMigration a(a_.get(), oa, kStudy);
    Janitor j(b_.get(), ob);
    std::vector<std::function<Status()>> steps_a = {
        [&] { return a.Claim(); }, [&] { return a.BuildAndUpload(); }, [&] { return a.Verify(); },
        [&] { return a.Switch(); }, [&] { return a.DeleteHotCopies(); }};
    std::vector<std::function<Status()>> steps_j = {
        [&] { return j.ListStore(); }, [&] { return j.ReadLedger(); },
        [&] { return j.Sweep().status(); }};
    size_t ia = 0, ij = 0;
    std::string order;
    for (int bit = 0; bit < 8; ++bit) {
      const bool janitor = mask & (1 << bit);
      order += janitor ? 'J' : 'A';
      Status s = janitor ? steps_j[ij++]() : steps_a[ia++]();
      ASSERT_TRUE(s.ok()) << order << ": " << s.ToString();
    }
    ExpectAllReadable();
    ASSERT_NO_FATAL_FAILURE(ExpectConverged(1)) << order;
    EXPECT_EQ(PackRows(), std::vector<std::string>{a.pack_key()}) << order;
  }
  EXPECT_EQ(schedules, 56);
}

// A second converter's janitor while the first has uploaded but not switched (the measured
// loss): the listing sees the object, the ledger sees the live claim, the object stays; the
// claim then switches and the pack is referenced.
TEST_F(MigrationTest, JanitorKeepsThePackOfAClaimThatSwitchesAfterItsSnapshot) {
  StoreImages(kStudy, 1, 3);
  auto oa = Options("nodeA"), ob = Options("nodeB");
  StudyMigration a(a_.get(), oa, kStudy);
  ASSERT_TRUE(a.Claim().ok());
  ASSERT_TRUE(a.BuildAndUpload().ok());
  Janitor j(b_.get(), ob);
  ASSERT_TRUE(j.ListStore().ok());
  ASSERT_TRUE(j.ReadLedger().ok());
  ASSERT_TRUE(a.Verify().ok());
  ASSERT_TRUE(a.Switch().ok());
  ASSERT_TRUE(j.Sweep().ok());
  ASSERT_TRUE(a.DeleteHotCopies().ok());
  ExpectConverged(1);
}

// The janitor's grace period: an unreferenced object younger than it stays.
TEST_F(MigrationTest, JanitorWaitsForTheGracePeriod) {
  ASSERT_TRUE(a_->cold()->Put("packs/aa/1.2.3/1-x.zip", "orphan").ok());
  auto ob = Options("nodeB");
  ob.orphan_grace_ms = 60'000;
  ASSERT_TRUE(Janitor(b_.get(), ob).Run().ok());
  EXPECT_EQ(ColdObjects().size(), 1u);
  // Two minutes old by its modification time: past the grace, deleted.
  const auto file = dir_ / "cold" / "packs" / "aa" / "1.2.3" / "1-x.zip";
  ASSERT_TRUE(std::filesystem::exists(file));
  std::filesystem::last_write_time(file, std::filesystem::file_time_type::clock::now() - std::chrono::minutes(2));
  ASSERT_TRUE(Janitor(b_.get(), ob).Run().ok());
  EXPECT_TRUE(ColdObjects().empty());
}

// A claim of a dead process of this node is marked failed; its object goes in the same
// janitor run (second round, fresh snapshot); a live claim's object stays.
TEST_F(MigrationTest, DeadLocalClaimIsFencedAndItsObjectRemoved) {
  StoreImages(kStudy, 1, 2);
  const std::string key = "packs/aa/" + kStudy + "/1-nodeB-1-0.zip";
  // A pid that cannot be alive (above pid_max).
  auto t = a_->catalog()->ClaimMigration(kStudy, "nodeB/99999999", key, 600'000);
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(a_->cold()->Put(key, "partial pack").ok());
  ASSERT_TRUE(Janitor(b_.get(), Options("nodeB")).Run().ok());
  EXPECT_TRUE(ColdObjects().empty());
  EXPECT_EQ(a_->catalog()->ListMigrations(10)->at(0).state, "failed");
  // The dead holder's switch is refused for good.
  PackRecord pack{key, kStudy, 1, 1, 1, "x", 1};
  EXPECT_EQ(a_->catalog()->SwitchToPack(pack, MigrationFence{kStudy, *t}, {}, {}, {}).status().code(),
            Status::Code::kConflict);
  ExpectAllReadable();
}

// A pending upload of a live claim survives the janitor; once the claim is fenced off it is
// aborted.
TEST_F(MigrationTest, PendingUploadOfALiveClaimIsKept) {
  StoreImages(kStudy, 1, 1);
  const std::string key = "packs/aa/" + kStudy + "/1-nodeA-1-0.zip";
  auto t = a_->catalog()->ClaimMigration(kStudy, "nodeA/" + std::to_string(getpid()), key, 600'000);
  ASSERT_TRUE(t.ok());
  auto up = a_->cold()->StartUpload(key);
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->PutPart(1, std::string(1024, 'x')).ok());
  auto ob = Options("nodeB");
  ob.orphan_grace_ms = 0;
  ASSERT_TRUE(Janitor(b_.get(), ob).Run().ok());
  EXPECT_EQ(PendingUploads(), 1u);
  ASSERT_TRUE(a_->catalog()->FinishMigration(kStudy, *t, "failed", "test").ok());
  ASSERT_TRUE(Janitor(b_.get(), ob).Run().ok());
  EXPECT_EQ(PendingUploads(), 0u);
  EXPECT_FALSE((*up)->Complete().ok());  // its owner can no longer finish it
}

// Wraps a catalog; SwitchToPack's answer is lost (before or after the commit).
class LostAnswerCatalog : public ForwardingCatalog {
 public:
  LostAnswerCatalog(Catalog* real, bool commit) : ForwardingCatalog(real), commit_(commit) {}
  Result<std::vector<bool>> SwitchToPack(const PackRecord& p, const MigrationFence& f,
                                         const std::vector<std::string>& s, const std::vector<Location>& e,
                                         const std::vector<Location>& l,
                                         const std::vector<std::string>& r) override {
    if (commit_) {
      auto done = real()->SwitchToPack(p, f, s, e, l, r);
      if (!done.ok()) return done;
    }
    return Status::UnknownOutcome("COMMIT sent, connection lost before its answer");
  }

 private:
  bool commit_;
};

// Defect 5: the switch committed but its answer was lost. The read-back finds the rows
// pointing at the pack: the migration goes on (hot copies deleted) and the pack stays.
TEST_F(MigrationTest, AmbiguousSwitchThatCommittedKeepsThePack) {
  StoreImages(kStudy, 1, 3);
  LostAnswerCatalog cat(a_->catalog(), /*commit=*/true);
  MigrationReport rep;
  Status s = StudyMigration(a_.get(), Options("nodeA"), kStudy, &cat).Run(&rep);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(rep.instances, 3u);
  EXPECT_EQ(ColdObjects().size(), 1u);
  ExpectConverged(1);
  EXPECT_EQ(a_->catalog()->Stats()->hot_instances, 0u);
}

// The switch did not commit and its answer was lost: nothing proves a rollback, so the pack
// stays (the migration does not delete it) and the hot files stay; the janitor removes the
// orphan once the claim is fenced off.
TEST_F(MigrationTest, AmbiguousSwitchThatRolledBackLeavesThePackToTheJanitor) {
  StoreImages(kStudy, 1, 3);
  LostAnswerCatalog cat(a_->catalog(), /*commit=*/false);
  MigrationReport rep;
  StudyMigration m(a_.get(), Options("nodeA"), kStudy, &cat);
  EXPECT_EQ(m.Run(&rep).code(), Status::Code::kUnknownOutcome);
  EXPECT_EQ(ColdObjects(), std::vector<std::string>{m.pack_key()});  // not deleted by the migration
  EXPECT_EQ(a_->catalog()->Stats()->hot_instances, 3u);
  ExpectAllReadable();
  ExpectConverged(0);  // the claim was marked failed: fenced, so the janitor may delete
}

// Defect 11: late images over many passes keep the study at <= max_packs packs, and every
// image reads back bit-identical after every pass; a record listed before a consolidation
// still reads after its pack was retired.
TEST_F(MigrationTest, LateImagesConvergeToBoundedPacks) {
  auto opt = Options("nodeA");
  opt.consolidation.max_packs = 3;
  opt.consolidation.small_share = 1.0;  // the count rule alone
  StoreImages(kStudy, 1, 4);
  size_t most = 0;
  bool consolidated = false;
  for (int pass = 0; pass < 10; ++pass) {
    auto before = a_->catalog()->GetInstance(stored_.begin()->first);
    ASSERT_TRUE(before.ok());
    StudyMigration m(a_.get(), opt, kStudy);
    MigrationReport rep;
    Status s = m.Run(&rep);
    ASSERT_TRUE(s.ok()) << pass << ": " << s.ToString();
    consolidated |= m.consolidating();
    auto packs = a_->catalog()->ListPacks(kStudy);
    most = std::max(most, packs->size());
    EXPECT_LE(packs->size(), 3u) << pass;
    EXPECT_EQ(ColdObjects(), PackRows()) << pass;  // retired objects deleted at once
    ExpectAllReadable();
    auto again = a_->Read(*before);  // the stale record (its pack may be gone)
    ASSERT_TRUE(again.ok()) << pass << ": " << again.status().ToString();
    EXPECT_TRUE(*again == stored_.begin()->second);
    StoreImages(kStudy, 2 + pass % 2, 1);  // a late image
  }
  EXPECT_TRUE(consolidated);
  EXPECT_EQ(most, 3u);
  MigrationReport rep;
  ASSERT_TRUE(StudyMigration(a_.get(), opt, kStudy).Run(&rep).ok());
  ExpectConverged(a_->catalog()->ListPacks(kStudy)->size());
}

// The share rule: many small generations beside one big pack get folded in.
TEST_F(MigrationTest, SmallPacksAreFoldedIntoOne) {
  auto opt = Options("nodeA");
  opt.consolidation.max_packs = 100;
  opt.consolidation.small_share = 0.3;
  StoreImages(kStudy, 1, 10);
  for (int pass = 0; pass < 8; ++pass) {
    MigrationReport rep;
    ASSERT_TRUE(StudyMigration(a_.get(), opt, kStudy).Run(&rep).ok()) << pass;
    StoreImages(kStudy, 2, 1);
  }
  MigrationReport rep;
  ASSERT_TRUE(StudyMigration(a_.get(), opt, kStudy).Run(&rep).ok());
  auto packs = a_->catalog()->ListPacks(kStudy).value();
  uint64_t total = 0, largest = 0;
  for (const auto& p : packs) {
    total += p.size;
    largest = std::max(largest, p.size);
  }
  EXPECT_LE(static_cast<double>(total - largest), 0.3 * static_cast<double>(total));
  EXPECT_LT(packs.size(), 9u);  // 9 passes: without folding there would be 9 packs
  ExpectConverged(packs.size());
}

// A consolidation racing another migration of the same study is fenced like any other.
TEST_F(MigrationTest, ConsolidationIsFenced) {
  auto opt = Options("nodeA", 200);
  opt.consolidation.max_packs = 1;
  StoreImages(kStudy, 1, 3);
  MigrationReport rep;
  ASSERT_TRUE(StudyMigration(a_.get(), opt, kStudy).Run(&rep).ok());
  StoreImages(kStudy, 2, 1);
  StudyMigration a(a_.get(), opt, kStudy);
  ASSERT_TRUE(a.Claim().ok());
  ASSERT_TRUE(a.consolidating());
  ASSERT_TRUE(a.BuildAndUpload().ok());
  ASSERT_TRUE(a.Verify().ok());
  Sleep(300);
  EXPECT_EQ(a.Switch().code(), Status::Code::kConflict);
  ExpectAllReadable();  // the old pack is still what rows point at
  auto ob = Options("nodeB");
  ob.consolidation.max_packs = 1;
  ASSERT_TRUE(StudyMigration(b_.get(), ob, kStudy).Run(&rep).ok());
  ExpectConverged(1);
}

}  // namespace
}  // namespace strata::testing
