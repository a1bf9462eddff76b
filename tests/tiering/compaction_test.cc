// Deleting instances (Archive::Delete) on the hot tier, from packs and from both, and the
// compaction that rewrites a pack without its deleted entries: the survivors stay readable
// from both nodes at every step, a compaction and a migration of one study never run
// together, an interrupted compaction (abandoned at any step, as by kill -9) loses nothing
// and leaves no orphan once the janitor and the next pass ran, and a hot file whose row was
// deleted is never re-indexed.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "pack/pack_reader.h"
#include "tiering/migration_scheduler.h"
#include "tiering/janitor.h"
#include "tiering/study_migration.h"
#include "tiering_fixture.h"

namespace strata::testing {
namespace {

const std::string kStudy = "1.2.826.0.1.3680043.10.1337.7";

class CompactionTest : public TwoNodes {
 protected:
  void Migrate(const TieringOptions& opt) {
    MigrationReport rep;
    Status s = StudyMigration(a_.get(), opt, kStudy).Run(&rep);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // Deletes through node B; forgets what is gone.
  DeleteReport Delete(const std::string& series, const std::string& sop) {
    auto r = b_->Delete(kStudy, series, sop, "test");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {};
    for (const auto& d : r->deleted) stored_.erase(d.sop_uid);
    return std::move(r).value();
  }
  // The SOP Instance UIDs in a pack object's manifest (what `unzip -l` lists).
  std::set<std::string> Entries(const std::string& key) {
    ColdStore* cold = a_->cold();
    auto head = cold->Head(key);
    EXPECT_TRUE(head.ok()) << key;
    if (!head.ok()) return {};
    auto reader = PackReader::Open([cold, key](uint64_t o, uint64_t l) { return cold->GetRange(key, o, l); },
                                   head->size, key);
    EXPECT_TRUE(reader.ok());
    std::set<std::string> out;
    for (const auto& e : reader->entries()) out.insert(e.sop_instance_uid);
    return out;
  }
  std::set<std::string> Survivors() {
    std::set<std::string> out;
    for (const auto& [sop, bytes] : stored_) out.insert(sop);
    return out;
  }
  // What both nodes list of the study is exactly what is left.
  void ExpectListed() {
    for (Archive* node : {a_.get(), b_.get()}) {
      auto rows = node->Locate(kStudy);
      std::set<std::string> listed;
      if (rows.ok())
        for (const auto& r : *rows) listed.insert(r.sop_uid);
      EXPECT_EQ(listed, Survivors());
    }
    ExpectAllReadable();
  }
  void ExpectConverged() {
    ASSERT_TRUE(Janitor(b_.get(), Options("nodeB")).Run().ok());
    EXPECT_EQ(ColdObjects(), PackRows());
    EXPECT_EQ(PendingUploads(), 0u);
    ReconcileReport rep;
    ASSERT_TRUE(a_->ReconcileHot(0, &rep, /*dry_run=*/true).ok());
    EXPECT_TRUE(rep.unknown.empty()) << rep.unknown.size() << " unknown hot files, first " << rep.unknown[0];
    ExpectListed();
  }
};

TEST_F(CompactionTest, HotDeleteRemovesTheRowsThenTheFiles) {
  StoreImages(kStudy, 1, 3);
  StoreImages(kStudy, 2, 2);
  auto victim = a_->catalog()->GetInstance(kStudy + ".1.2").value();
  const std::string file = a_->hot()->AbsolutePath(victim.location.hot_path);
  ASSERT_TRUE(std::filesystem::exists(file));
  DeleteReport one = Delete("", victim.sop_uid);
  EXPECT_EQ(one.deleted.size(), 1u);
  EXPECT_EQ(one.hot_files_removed, 1u);
  EXPECT_FALSE(std::filesystem::exists(file));
  ExpectListed();
  DeleteReport series = Delete(kStudy + ".2", "");
  EXPECT_EQ(series.deleted.size(), 2u);
  ExpectConverged();
  EXPECT_TRUE(b_->Delete(kStudy, kStudy + ".2", "", "test").status().IsNotFound());
  EXPECT_TRUE(b_->Delete(kStudy, "", kStudy + ".1.2", "test").status().IsNotFound());
  EXPECT_EQ(b_->Delete(kStudy, "", "1.2.3/../x", "test").status().code(), Status::Code::kInvalidArgument);
  // An instance of another study named under this one is not found, and stays.
  StoreImages("1.2.826.0.1.3680043.10.1337.8", 1, 1);
  EXPECT_TRUE(b_->Delete(kStudy, "", "1.2.826.0.1.3680043.10.1337.8.1.6", "test").status().IsNotFound());
  ExpectAllReadable();
}

TEST_F(CompactionTest, PackedDeleteHidesAtOnceAndCompactionRewritesThePack) {
  StoreImages(kStudy, 1, 4);
  auto opt = Options("nodeA");
  Migrate(opt);
  const std::string old_key = PackRows().at(0);
  DeleteReport d = Delete("", kStudy + ".1.2");
  EXPECT_EQ(d.packs_to_compact, std::vector<std::string>{old_key});
  ExpectListed();                                  // both nodes, at once
  EXPECT_EQ(Entries(old_key).size(), 4u);          // the bytes are still in the old pack
  MigrationScheduler conv(a_.get(), opt);
  auto rep = conv.RunOnce("", -1);                 // nothing hot: only the compaction runs
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  EXPECT_EQ(rep->compacted_packs, 1u);
  auto packs = a_->catalog()->ListPacks(kStudy).value();
  ASSERT_EQ(packs.size(), 1u);
  EXPECT_NE(packs[0].pack_key, old_key);
  EXPECT_EQ(packs[0].generation, 2);
  EXPECT_EQ(packs[0].entries, 3u);
  EXPECT_EQ(Entries(packs[0].pack_key), Survivors());
  ExpectConverged();                                // the old object is gone
  EXPECT_TRUE(a_->catalog()->StudiesToCompact(10)->empty());
}

TEST_F(CompactionTest, DeletingEveryInstanceOfAPackDeletesTheObject) {
  StoreImages(kStudy, 1, 2);
  Migrate(Options("nodeA"));
  StoreImages(kStudy, 2, 2);  // a late arrival: the study is on both tiers
  DeleteReport d = Delete(kStudy + ".1", "");
  EXPECT_EQ(d.packs_deleted.size(), 1u);
  EXPECT_TRUE(PackRows().empty());
  EXPECT_TRUE(ColdObjects().empty());
  ExpectListed();
  Delete("", "");
  EXPECT_TRUE(a_->Locate(kStudy)->empty());
  EXPECT_EQ(a_->catalog()->Stats()->studies, 0u);
  ExpectConverged();
}

TEST_F(CompactionTest, CompactionAndMigrationOfOneStudyNeverRunTogether) {
  StoreImages(kStudy, 1, 3);
  auto opt = Options("nodeA");
  Migrate(opt);
  Delete("", kStudy + ".1.1");
  StudyMigration compaction(a_.get(), opt, kStudy);
  ASSERT_TRUE(compaction.Claim().ok());
  EXPECT_TRUE(compaction.consolidating());
  EXPECT_EQ(compaction.compacted_packs(), 1u);
  StoreImages(kStudy, 2, 1);  // a late image wants a migration meanwhile
  auto ob = Options("nodeB");
  MigrationReport rep;
  EXPECT_EQ(StudyMigration(b_.get(), ob, kStudy).Run(&rep).code(), Status::Code::kConflict);
  EXPECT_TRUE(b_->catalog()->StudiesToCompact(10)->empty());
  ASSERT_TRUE(compaction.BuildAndUpload().ok());
  ASSERT_TRUE(compaction.Verify().ok());
  ASSERT_TRUE(compaction.Switch().ok());
  ASSERT_TRUE(compaction.DeleteHotCopies().ok());
  ASSERT_TRUE(StudyMigration(b_.get(), ob, kStudy).Run(&rep).ok());
  ExpectConverged();
}

// A delete during a compaction: the entry deleted meanwhile does not move, and the next pass
// compacts again.
TEST_F(CompactionTest, DeleteDuringACompaction) {
  StoreImages(kStudy, 1, 4);
  auto opt = Options("nodeA");
  Migrate(opt);
  Delete("", kStudy + ".1.1");
  StudyMigration m(a_.get(), opt, kStudy);
  ASSERT_TRUE(m.Claim().ok());
  ASSERT_TRUE(m.BuildAndUpload().ok());
  Delete("", kStudy + ".1.3");
  ASSERT_TRUE(m.Verify().ok());
  ASSERT_TRUE(m.Switch().ok());
  ASSERT_TRUE(m.DeleteHotCopies().ok());
  EXPECT_EQ(m.moved(), 2u);
  ExpectListed();
  MigrationScheduler conv(a_.get(), opt);
  ASSERT_TRUE(conv.RunOnce("", -1).ok());
  auto packs = PackRows();
  ASSERT_EQ(packs.size(), 1u);
  EXPECT_EQ(Entries(packs[0]), Survivors());
  ExpectConverged();
}

// Abandoned after each step (a kill -9: nothing of the run is finished or undone), then the
// janitor and the next pass: the survivors are readable throughout, nothing is orphaned.
TEST_F(CompactionTest, InterruptedCompactionLosesNothing) {
  for (int stop = 1; stop <= 4; ++stop) {
    SCOPED_TRACE("abandoned after step " + std::to_string(stop));
    StoreImages(kStudy, stop, 3);
    auto opt = Options("nodeA", 200);
    Migrate(opt);
    Delete("", kStudy + "." + std::to_string(stop) + "." + std::to_string(next_instance_ - 2));
    {
      StudyMigration m(a_.get(), opt, kStudy);
      ASSERT_TRUE(m.Claim().ok());
      if (stop >= 2) ASSERT_TRUE(m.BuildAndUpload().ok());
      if (stop >= 3) ASSERT_TRUE(m.Verify().ok());
      if (stop >= 4) ASSERT_TRUE(m.Switch().ok());
      ExpectListed();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // its lease runs out
    ExpectListed();
    MigrationScheduler conv(b_.get(), Options("nodeB"));
    auto rep = conv.RunOnce("", -1);
    ASSERT_TRUE(rep.ok()) << rep.status().ToString();
    ASSERT_TRUE(conv.RunOnce("", -1).ok());
    const std::vector<InstanceRecord> rows = a_->Locate(kStudy).value();
    for (const auto& key : PackRows()) {
      std::set<std::string> in = Entries(key), live;
      for (const auto& r : rows)
        if (r.location.pack_key == key) live.insert(r.sop_uid);
      EXPECT_EQ(in, live) << key;  // no dead entry left anywhere
    }
    EXPECT_TRUE(a_->catalog()->StudiesToCompact(10)->empty());
    ExpectConverged();
  }
}

// The deleting process died after the commit and before it unlinked the file: the
// reconciler removes the file (tombstone) instead of re-indexing it as an unacknowledged store.
TEST_F(CompactionTest, FileOfADeletedRowIsRemovedNotReindexed) {
  StoreImages(kStudy, 1, 2);
  auto victim = a_->catalog()->GetInstance(kStudy + ".1.1").value();
  const std::string file = a_->hot()->AbsolutePath(victim.location.hot_path);
  const std::string keep = (dir_ / "saved.dcm").string();
  std::filesystem::copy_file(file, keep);
  Delete("", victim.sop_uid);
  std::filesystem::rename(keep, file);  // as if never unlinked
  ReconcileReport rep;
  ASSERT_TRUE(a_->ReconcileHot(0, &rep).ok());
  EXPECT_EQ(rep.reindexed, 0u);
  EXPECT_EQ(rep.removed, 1u);
  EXPECT_FALSE(std::filesystem::exists(file));
  EXPECT_TRUE(a_->catalog()->GetInstance(victim.sop_uid).status().IsNotFound());
  ExpectConverged();
}

}  // namespace
}  // namespace strata::testing
