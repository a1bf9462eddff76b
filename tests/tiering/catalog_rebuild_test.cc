// rebuild-catalog (issue 16): a populated archive (hot and cold, several generations of packs,
// consolidation, a leftover retired pack, late arrivals, a replaced duplicate, transcoded
// entries) loses its catalog; the rebuilt one must be identical row for row, answer C-FIND
// identically and give every instance back bit-identical.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>

#include "archive/archive.h"
#include "tiering/catalog_rebuild.h"
#include "tiering/migration_scheduler.h"
#include "tiering/pack_codec.h"
#include "util/checksum.h"

namespace strata {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
}

struct Image {
  std::string patient_id, patient_name, study, series, modality;
  int series_number = 1, instance = 1;
  int seed = 0;  // other pixels under the same SOP Instance UID
};

class RebuildTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() / ("strata-rebuild-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Open();
  }
  void TearDown() override {
    a_.reset();
    fs::remove_all(dir_);
  }

  void Open() {
    ArchiveOptions o;
    o.hot_dir = (dir_ / "hot").string();
    o.node_id = "n1";
    o.catalog.url = "sqlite:" + (dir_ / "c.db").string();
    o.cold.url = "file:" + (dir_ / "cold").string();
    o.duplicates = DuplicatePolicy::kReplace;
    auto a = Archive::Open(o);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    a_ = std::move(a).value();
  }

  void DeleteCatalog() {
    a_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(dir_ / (std::string("c.db") + suffix));
    Open();
  }

  // Stores one small image; remembers its bytes by SOP Instance UID.
  void Store(const Image& im, StoreResult::Outcome expect = StoreResult::Outcome::kStored) {
    const std::string sop = im.series + "." + std::to_string(im.instance);
    DcmFileFormat ff;
    DcmDataset* ds = ff.getDataset();
    ds->putAndInsertString(DCM_SOPClassUID, UID_SecondaryCaptureImageStorage);
    ds->putAndInsertString(DCM_SOPInstanceUID, sop.c_str());
    ds->putAndInsertString(DCM_StudyInstanceUID, im.study.c_str());
    ds->putAndInsertString(DCM_SeriesInstanceUID, im.series.c_str());
    ds->putAndInsertString(DCM_PatientID, im.patient_id.c_str());
    ds->putAndInsertString(DCM_PatientName, im.patient_name.c_str());
    ds->putAndInsertString(DCM_StudyDate, "20240102");
    ds->putAndInsertString(DCM_AccessionNumber, ("ACC" + im.study.substr(im.study.size() - 1)).c_str());
    ds->putAndInsertString(DCM_Modality, im.modality.c_str());
    ds->putAndInsertString(DCM_SeriesNumber, std::to_string(im.series_number).c_str());
    ds->putAndInsertString(DCM_InstanceNumber, std::to_string(im.instance).c_str());
    ds->putAndInsertUint16(DCM_Rows, 8);
    ds->putAndInsertUint16(DCM_Columns, 8);
    ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
    ds->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
    ds->putAndInsertUint16(DCM_BitsAllocated, 16);
    ds->putAndInsertUint16(DCM_BitsStored, 12);
    ds->putAndInsertUint16(DCM_HighBit, 11);
    ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
    std::vector<Uint16> px(64);
    for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<Uint16>((im.instance * 37 + im.seed * 11 + i) & 0xfff);
    ds->putAndInsertUint16Array(DCM_PixelData, px.data(), px.size());
    const std::string path = a_->NewIncomingPath();
    ASSERT_TRUE(ff.saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
    std::string bytes = ReadAll(path);
    auto r = a_->StoreFile(path);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(static_cast<int>(r->outcome), static_cast<int>(expect)) << sop;
    stored_[sop] = bytes;
    usleep(3000);  // distinct received times, as real stores have
  }

  void Migrate(const std::string& study, int max_packs = 4) {
    TieringOptions co;
    co.node_id = "n1";
    co.older_than_ms = 0;
    co.part_size = 1;
    co.consolidation.max_packs = max_packs;
    co.consolidation.small_share = 1.0;
    PackCodecPolicy policy;
    policy.by_modality["CT"] = "jpeg-ls";  // some entries transcoded, some as received
    auto t = MakeEntryTranscoder(policy);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    co.transcoder = t.value();
    MigrationScheduler conv(a_.get(), co);
    auto r = conv.RunOnce(study, 0, nullptr);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->failed, 0u);
  }

  // Everything the catalog says, in a canonical text form (row keys excluded).
  std::string Dump() {
    std::ostringstream out;
    Catalog* cat = a_->catalog();
    auto stats = cat->Stats();
    EXPECT_TRUE(stats.ok());
    out << "stats " << stats->patients << " " << stats->studies << " " << stats->series << " " << stats->instances
        << " hot " << stats->hot_instances << "/" << stats->hot_bytes << " cold " << stats->cold_instances << "/"
        << stats->cold_bytes << " packs " << stats->packs << "/" << stats->pack_bytes << "\n";
    for (QueryLevel level : {QueryLevel::kPatient, QueryLevel::kStudy, QueryLevel::kSeries, QueryLevel::kInstance}) {
      Query q;
      q.level = level;
      for (const auto& def : AllAttributes())
        if (def.level <= level) q.keys.emplace_back(def.tag, "");
      auto found = cat->Find(q);
      EXPECT_TRUE(found.ok()) << found.status().ToString();
      std::vector<std::string> lines;
      for (const auto& m : found.value()) {
        std::string line = std::string(QueryLevelName(level)) + ":";
        for (const auto& [tag, value] : m) line += " " + std::to_string(tag) + "=" + value;
        lines.push_back(line);
      }
      std::sort(lines.begin(), lines.end());  // C-FIND promises no order
      for (const auto& l : lines) out << l << "\n";
    }
    Query studies;
    studies.level = QueryLevel::kStudy;
    studies.keys.emplace_back(tags::kStudyInstanceUID, "");  // a Find returns only the keys asked for
    auto study_matches = cat->Find(studies);
    EXPECT_TRUE(study_matches.ok()) << study_matches.status().ToString();
    std::vector<std::string> study_uids;
    for (const auto& m : study_matches.value()) {
      auto uid = m.find(tags::kStudyInstanceUID);
      EXPECT_TRUE(uid != m.end() && !uid->second.empty());
      if (uid != m.end()) study_uids.push_back(uid->second);
    }
    std::sort(study_uids.begin(), study_uids.end());
    for (const auto& study_uid : study_uids) {
      auto recs = cat->ListInstances(study_uid, "", "");
      EXPECT_TRUE(recs.ok()) << recs.status().ToString();
      for (const auto& r : recs.value()) {  // in ListInstances order: series pk order matters
        out << "instance " << r.patient_id << "|" << r.issuer << "|" << r.patient_name << "|" << r.birth_date << "|"
            << r.sex << "|" << r.study_uid << "|" << r.study_date << "|" << r.study_time << "|" << r.accession << "|"
            << r.study_id << "|" << r.study_description << "|" << r.referring_physician << "|" << r.series_uid << "|"
            << r.modality << "|" << r.series_description << "|" << r.body_part << "|" << r.series_date << "|"
            << r.series_time << "|" << r.series_number << "|" << r.sop_uid << "|" << r.sop_class_uid << "|"
            << r.transfer_syntax << "|" << r.instance_number << "|" << r.rows << "|" << r.columns << "|" << r.frames
            << "|" << r.size << "|" << r.checksum << "|" << r.dataset_checksum << "|" << r.received_ms << "|"
            << static_cast<int>(r.location.tier) << "|" << r.location.hot_path << "|" << r.location.pack_key << "|"
            << r.location.offset << "|" << r.location.length << "|" << r.location.entry_checksum << "|"
            << r.location.entry_syntax << "\n";
      }
    }
    auto packs = cat->ListPacks("");
    EXPECT_TRUE(packs.ok());
    std::vector<std::string> lines;
    for (const auto& p : packs.value())
      lines.push_back("pack " + p.pack_key + "|" + p.study_uid + "|" + std::to_string(p.generation) + "|" +
                      std::to_string(p.size) + "|" + std::to_string(p.entries) + "|" + p.checksum + "|" +
                      std::to_string(p.created_ms));
    std::sort(lines.begin(), lines.end());
    for (const auto& l : lines) out << l << "\n";
    return out.str();
  }

  void ExpectAllReadable() {
    for (const auto& [sop, bytes] : stored_) {
      auto rec = a_->catalog()->GetInstance(sop);
      ASSERT_TRUE(rec.ok()) << sop << ": " << rec.status().ToString();
      auto got = a_->Read(*rec);
      ASSERT_TRUE(got.ok()) << sop << ": " << got.status().ToString();
      EXPECT_TRUE(*got == bytes || rec->location.entry_syntax != rec->transfer_syntax) << sop << " differs";
      if (rec->location.entry_syntax == rec->transfer_syntax) EXPECT_EQ(Xxh3Hex(*got), rec->checksum);
    }
  }

  fs::path dir_;
  std::unique_ptr<Archive> a_;
  std::map<std::string, std::string> stored_;
};

TEST_F(RebuildTest, EveryStudyComesBackIdentical) {
  const std::string s1 = "1.2.826.0.1.3680043.10.999.1", s2 = "1.2.826.0.1.3680043.10.999.2",
                    s3 = "1.2.826.0.1.3680043.10.999.3";
  // S1: two series, CT (transcoded) and OT; S2 another patient; S3 hot only, same patient as S1.
  for (int k = 1; k <= 3; ++k) Store({"P1", "Doe^Jane", s1, s1 + ".1", "CT", 1, k, 0});
  for (int k = 1; k <= 2; ++k) Store({"P1", "Doe^Jane", s1, s1 + ".2", "OT", 2, k, 0});
  for (int k = 1; k <= 3; ++k) Store({"P2", "Roe^Rich", s2, s2 + ".1", "OT", 1, k, 0});
  Migrate(s1);  // generation 1
  Migrate(s2);
  for (int k = 4; k <= 5; ++k) Store({"P1", "Doe^Jane", s1, s1 + ".1", "CT", 1, k, 0});  // late
  Migrate(s1);  // generation 2 beside 1
  auto packs = a_->catalog()->ListPacks(s1).value();
  ASSERT_EQ(packs.size(), 2u);
  // Keep a copy of both packs: after the consolidation they stay behind, as after a crash
  // between the switch and the deletion of the retired packs.
  std::map<std::string, std::string> retired;
  for (const auto& p : packs) retired[p.pack_key] = ReadAll(dir_ / "cold" / p.pack_key);
  Store({"P1", "Doe^Jane", s1, s1 + ".3", "OT", 3, 1, 0});
  Migrate(s1, /*max_packs=*/1);  // consolidation: generation 3 holds everything
  ASSERT_EQ(a_->catalog()->ListPacks(s1).value().size(), 1u);
  for (const auto& [key, bytes] : retired) WriteAll(dir_ / "cold" / key, bytes);
  // Late arrivals beside the pack, a replaced duplicate of a packed instance, a hot-only study.
  Store({"P1", "Doe^Jane", s1, s1 + ".3", "OT", 3, 2, 0});
  Store({"P2", "Roe^Rich", s2, s2 + ".1", "OT", 1, 2, 0}, StoreResult::Outcome::kIdentical);  // a re-send
  // Different bytes under a packed SOP Instance UID: the newer hot copy replaces it.
  Store({"P2", "Roe^Rich", s2, s2 + ".1", "OT", 1, 3, 1}, StoreResult::Outcome::kReplaced);
  for (int k = 1; k <= 2; ++k) Store({"P1", "Doe^Jane", s3, s3 + ".1", "MR", 1, k, 0});
  ExpectAllReadable();
  const std::string before = Dump();
  ASSERT_NE(before.find("pack packs/"), std::string::npos);
  ASSERT_NE(before.find("instance P1|"), std::string::npos);  // the rows themselves are compared

  DeleteCatalog();
  EXPECT_EQ(a_->catalog()->Stats().value().instances, 0u);
  auto rep = RebuildCatalog(a_.get());
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  for (const auto& p : rep->problems) ADD_FAILURE() << p;
  EXPECT_EQ(rep->packs, 4u);        // S1 generations 1, 2 (retired leftovers) and 3; S2
  EXPECT_EQ(rep->packs_referenced, 2u);
  EXPECT_EQ(rep->studies, 3u);
  EXPECT_GT(rep->superseded, 0u);   // the leftovers' copies lost to generation 3
  EXPECT_EQ(Dump(), before);
  ExpectAllReadable();

  // Refuses to add to a catalog that has rows.
  auto again = RebuildCatalog(a_.get());
  EXPECT_EQ(again.status().code(), Status::Code::kInvalidArgument) << again.status().ToString();
}

TEST_F(RebuildTest, ReplacedDuplicateNewerThanItsPackWins) {
  const std::string s = "1.2.826.0.1.3680043.10.998.1";
  Store({"P1", "A^B", s, s + ".1", "OT", 1, 1, 0});
  Store({"P1", "A^B", s, s + ".1", "OT", 1, 2, 0});
  Migrate(s);
  const std::string sop = s + ".1.1";
  ASSERT_EQ(a_->catalog()->GetInstance(sop).value().location.tier, Location::Tier::kCold);
  Store({"P1", "A^B", s, s + ".1", "OT", 1, 1, 7}, StoreResult::Outcome::kReplaced);
  const std::string before = Dump();
  DeleteCatalog();
  auto rep = RebuildCatalog(a_.get());
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  EXPECT_TRUE(rep->ok());
  EXPECT_EQ(rep->superseded, 1u);  // the packed copy
  EXPECT_EQ(Dump(), before);
  auto now = a_->catalog()->GetInstance(sop).value();
  EXPECT_EQ(now.location.tier, Location::Tier::kHot);
  EXPECT_EQ(a_->Read(now).value(), stored_[sop]);
}

TEST_F(RebuildTest, CorruptEntryIsReportedAndSkipped) {
  const std::string s = "1.2.826.0.1.3680043.10.997.1";
  for (int k = 1; k <= 3; ++k) Store({"P1", "A^B", s, s + ".1", "OT", 1, k, 0});
  Migrate(s);
  auto rec = a_->catalog()->GetInstance(s + ".1.2").value();
  ASSERT_EQ(rec.location.tier, Location::Tier::kCold);
  {
    std::fstream f(dir_ / "cold" / rec.location.pack_key, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(rec.location.offset + rec.location.length - 3));
    f.put('\x5a');
  }
  DeleteCatalog();
  auto rep = RebuildCatalog(a_.get());
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  ASSERT_EQ(rep->problems.size(), 1u);
  EXPECT_NE(rep->problems[0].find(rec.location.pack_key), std::string::npos) << rep->problems[0];
  EXPECT_NE(rep->problems[0].find(s + ".1/" + s + ".1.2.dcm"), std::string::npos) << rep->problems[0];
  EXPECT_EQ(rep->instances, 2u);
  EXPECT_TRUE(a_->catalog()->GetInstance(s + ".1.2").status().IsNotFound());
  EXPECT_TRUE(a_->catalog()->GetInstance(s + ".1.1").ok());
}

// Deletes leave bytes behind (a pack entry until compaction, an emptied pack until the
// janitor, a hot file whose unlink failed): the tombstones in the cold store keep them dead,
// and an instance stored again after its delete comes back.
TEST_F(RebuildTest, DeletedInstancesStayDeleted) {
  const std::string s1 = "1.2.826.0.1.3680043.10.996.1", s2 = "1.2.826.0.1.3680043.10.996.2",
                    s3 = "1.2.826.0.1.3680043.10.996.3";
  for (int k = 1; k <= 4; ++k) Store({"P1", "A^B", s1, s1 + ".1", "OT", 1, k, 0});
  for (int k = 1; k <= 2; ++k) Store({"P2", "C^D", s2, s2 + ".1", "OT", 1, k, 0});
  Migrate(s1);
  Migrate(s2);
  for (int k = 1; k <= 3; ++k) Store({"P1", "A^B", s3, s3 + ".1", "MR", 1, k, 0});  // hot only
  // One packed instance of S1 deleted: its pack is thinned, not compacted.
  auto d1 = a_->Delete(s1, "", s1 + ".1.2", "test");
  ASSERT_TRUE(d1.ok()) << d1.status().ToString();
  ASSERT_EQ(d1->packs_to_compact.size(), 1u);
  // All of S2: its pack object is put back, as if the process died before deleting it.
  const auto s2_pack = a_->catalog()->ListPacks(s2).value().at(0).pack_key;
  const std::string s2_bytes = ReadAll(dir_ / "cold" / s2_pack);
  ASSERT_TRUE(a_->Delete(s2, "", "", "test").ok());
  ASSERT_FALSE(fs::exists(dir_ / "cold" / s2_pack));
  WriteAll(dir_ / "cold" / s2_pack, s2_bytes);
  // A hot instance of S3 whose file "could not be unlinked": put back with its time.
  const auto hot = a_->catalog()->GetInstance(s3 + ".1.2").value();
  const fs::path hot_file = a_->hot()->AbsolutePath(hot.location.hot_path);
  const std::string hot_bytes = ReadAll(hot_file);
  const auto hot_time = fs::last_write_time(hot_file);
  ASSERT_TRUE(a_->Delete(s3, "", s3 + ".1.2", "test").ok());
  ASSERT_FALSE(fs::exists(hot_file));
  WriteAll(hot_file, hot_bytes);
  fs::last_write_time(hot_file, hot_time);
  // Deleted, then stored again: alive.
  ASSERT_TRUE(a_->Delete(s3, "", s3 + ".1.3", "test").ok());
  Store({"P1", "A^B", s3, s3 + ".1", "MR", 1, 3, 0});
  for (const auto& sop : {s1 + ".1.2", s2 + ".1.1", s2 + ".1.2", s3 + ".1.2"}) stored_.erase(sop);
  ExpectAllReadable();
  const std::string before = Dump();
  ASSERT_EQ(before.find(s2), std::string::npos);

  DeleteCatalog();
  auto rep = RebuildCatalog(a_.get());
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  for (const auto& p : rep->problems) ADD_FAILURE() << p;
  EXPECT_EQ(rep->deleted, 4u);  // S1's entry, S2's two entries, S3's restored file
  EXPECT_EQ(rep->studies, 2u);
  EXPECT_EQ(Dump(), before);
  ExpectAllReadable();
  for (const auto& sop : {s1 + ".1.2", s2 + ".1.1", s3 + ".1.2"})
    EXPECT_TRUE(a_->catalog()->GetInstance(sop).status().IsNotFound()) << sop;
  EXPECT_TRUE(a_->catalog()->GetInstance(s3 + ".1.3").ok());
}

// A tombstone that cannot be read ends the rebuild: it must not guess what was deleted.
TEST_F(RebuildTest, UnreadableTombstoneStopsTheRebuild) {
  const std::string s = "1.2.826.0.1.3680043.10.995.1";
  for (int k = 1; k <= 2; ++k) Store({"P1", "A^B", s, s + ".1", "OT", 1, k, 0});
  ASSERT_TRUE(a_->Delete(s, "", s + ".1.1", "test").ok());
  std::vector<fs::path> tombs;
  for (const auto& e : fs::recursive_directory_iterator(dir_ / "cold" / "tombstones"))
    if (e.is_regular_file()) tombs.push_back(e.path());
  ASSERT_EQ(tombs.size(), 1u);
  WriteAll(tombs[0], "{\"format\": \"strata-tombstone-1\", \"instances\": [{\"sop_uid\": 5}]}");
  DeleteCatalog();
  auto rep = RebuildCatalog(a_.get());
  EXPECT_EQ(rep.status().code(), Status::Code::kCorruption) << rep.status().ToString();
}

// Corrections and merges survive the loss of the catalog (docs/safety.md C3): a correction of a
// packed study, a merge after a correction, a correction after the merge (reaching both
// studies), a late image of the corrected study and a study of the merged-away patient sent
// afterwards. The rebuilt catalog answers every query as before, holds the same records and
// serves the same patched bytes; a refused change leaves no record behind.
TEST_F(RebuildTest, CorrectionsAndMergesAreReplayedInOrder) {
  const std::string s1 = "1.2.826.0.1.3680043.10.994.1", s2 = "1.2.826.0.1.3680043.10.994.2",
                    s3 = "1.2.826.0.1.3680043.10.994.3";
  for (int k = 1; k <= 3; ++k) Store({"P1", "A^B", s1, s1 + ".1", "OT", 1, k, 0});
  for (int k = 1; k <= 2; ++k) Store({"P2", "C^D", s2, s2 + ".1", "OT", 1, k, 0});
  Migrate(s1);
  ASSERT_TRUE(a_->Correct(s1, {{"PatientName", "Fixed^Name"}, {"AccessionNumber", "NEW1"}}, "t", "typo").ok());
  usleep(3000);
  Store({"P1", "A^B", s1, s1 + ".1", "OT", 1, 4, 0});  // late, with the old values
  ASSERT_TRUE(a_->Correct(s2, {{"StudyDescription", "BEFORE MERGE"}}, "t", "").ok());
  usleep(3000);
  auto merged = a_->MergePatients("P2", "", "P1", "", "t", "duplicate");
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  usleep(3000);
  ASSERT_TRUE(a_->Correct(s2, {{"PatientName", "After^Merge"}}, "t", "").ok());  // reaches S1 too
  usleep(3000);
  for (int k = 1; k <= 2; ++k) Store({"P2", "C^D", s3, s3 + ".1", "MR", 1, k, 0});  // P2 again: a new row
  // Refused changes leave no record: no such study, no such patient.
  EXPECT_TRUE(a_->Correct("1.2.826.0.1.3680043.10.994.9", {{"StudyID", "X"}}, "t", "").status().IsNotFound());
  EXPECT_TRUE(a_->MergePatients("NOPE", "", "P1", "", "t", "").status().IsNotFound());
  size_t records = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir_ / "cold" / "corrections"))
    records += e.is_regular_file();
  EXPECT_EQ(records, 4u);

  auto served = [&] {
    std::map<std::string, std::string> out;
    for (const auto& [sop, bytes] : stored_) {
      auto rec = a_->catalog()->GetInstance(sop);
      EXPECT_TRUE(rec.ok()) << sop;
      if (!rec.ok()) continue;
      auto got = a_->ReadServed(*rec);
      EXPECT_TRUE(got.ok()) << sop << ": " << got.status().ToString();
      if (got.ok()) out[sop] = Xxh3Hex(*got);
    }
    return out;
  };
  auto records_of = [&](const std::string& study) {
    std::string out;
    for (const auto& r : a_->catalog()->ListCorrections(study).value())
      out += std::to_string(r.change_id) + " " + std::to_string(r.tag) + " " + r.old_value + " -> " + r.new_value +
             " " + r.kind + " " + r.who + " " + r.reason + " " + std::to_string(r.at_ms) + "\n";
    return out;
  };
  const std::string before = Dump();
  const auto served_before = served();
  const std::string rec_before = records_of(s1) + records_of(s2) + records_of(s3);
  ASSERT_NE(before.find("After^Merge"), std::string::npos);
  ASSERT_NE(before.find("C^D"), std::string::npos);  // S3's patient P2
  ASSERT_NE(served_before.at(s1 + ".1.4"), Xxh3Hex(stored_.at(s1 + ".1.4")));  // served corrected

  DeleteCatalog();
  auto rep = RebuildCatalog(a_.get());
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  for (const auto& p : rep->problems) ADD_FAILURE() << p;
  EXPECT_EQ(rep->corrections_replayed, 4u);
  EXPECT_EQ(rep->corrections_skipped, 0u);
  EXPECT_EQ(Dump(), before);
  EXPECT_EQ(records_of(s1) + records_of(s2) + records_of(s3), rec_before);
  EXPECT_EQ(served(), served_before);
}

// A correction record that cannot be read ends the rebuild: it must not guess an identity.
TEST_F(RebuildTest, UnreadableCorrectionRecordStopsTheRebuild) {
  const std::string s = "1.2.826.0.1.3680043.10.993.1";
  Store({"P1", "A^B", s, s + ".1", "OT", 1, 1, 0});
  ASSERT_TRUE(a_->Correct(s, {{"PatientName", "X^Y"}}, "t", "").ok());
  std::vector<fs::path> recs;
  for (const auto& e : fs::recursive_directory_iterator(dir_ / "cold" / "corrections"))
    if (e.is_regular_file()) recs.push_back(e.path());
  ASSERT_EQ(recs.size(), 1u);
  WriteAll(recs[0], "{\"format\": \"strata-correction-1\", \"kind\": \"correct\"}");
  DeleteCatalog();
  auto rep = RebuildCatalog(a_.get());
  EXPECT_EQ(rep.status().code(), Status::Code::kCorruption) << rep.status().ToString();
}

}  // namespace
}  // namespace strata
