#include "tiering/study_migration.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "cold/part_uploader.h"
#include "pack/pack_reader.h"
#include "tiering/consolidation.h"
#include "tiering/lease_keeper.h"
#include "tiering/pack_codec.h"
#include "util/checksum.h"
#include "util/clock.h"
#include "util/log.h"

namespace strata {
namespace {

// Generation and PackedAtMs are what the pack row holds, so rebuild-catalog can recreate it.
nlohmann::json StudyMetadata(const InstanceRecord& r, const std::string& node, int64_t now, int64_t generation) {
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
          {"PackedAtMs", now},
          {"Generation", generation}};
}

// One entry read (and, for a hot source with a codec, encoded) ahead of the writer.
struct Prepared {
  Status status;
  PackEntryInfo info;
  std::string stored;
  uint64_t original_size = 0;
  bool proof_failed = false;  // re-encoded, but the lossless proof failed: stored as received
};

// Reads source R (verified against the catalog's checksum) and, for a hot source with a
// TRANSCODER, re-encodes it with the lossless proof; a carried (cold) entry is copied as
// stored, never re-encoded. A failed proof stores the entry as received. A read error is in
// the result's status.
Prepared PrepareEntry(Archive* archive, const EntryTranscoder& transcoder, const InstanceRecord& r) {
  Prepared p;
  const bool carried = r.location.tier == Location::Tier::kCold;
  p.info = carried ? CarriedEntryInfo(r)
                   : PackEntryInfo{r.series_uid, r.sop_uid, r.sop_class_uid, r.transfer_syntax, "", std::nullopt,
                                   std::nullopt};
  p.info.received_ms = r.received_ms;  // the row's own fields, for rebuild-catalog
  p.info.dataset_xxh3 = r.dataset_checksum;
  auto bytes = archive->Read(r);
  if (!bytes.ok()) {
    p.status = bytes.status();
    return p;
  }
  p.stored = std::move(bytes).value();
  p.original_size = carried ? r.size : p.stored.size();
  if (carried || !transcoder.fn) return p;
  auto t = transcoder.fn(r, p.stored);
  if (t.ok()) {
    p.info.original_transfer_syntax = r.transfer_syntax;
    p.info.original_size = p.original_size;
    uint64_t x = 0;
    if (ParseHexU64(r.checksum, &x)) p.info.original_xxh3 = x;
    p.stored = std::move(t.value().bytes);
    p.info.transfer_syntax = t.value().transfer_syntax;
    p.info.lossless_verified = t.value().lossless_verified;
  } else if (IsLosslessProofFailure(t.status())) {
    p.proof_failed = true;  // stored as received
  }
  return p;
}

// Where the switch points source R: ENTRY of the pack KEY; a hot source keeps its path as
// the trail the janitor follows if the hot file outlives the switch.
Location PackLocation(const PackEntry& entry, const std::string& key, const InstanceRecord& r) {
  Location loc;
  loc.tier = Location::Tier::kCold;
  loc.pack_key = key;
  loc.offset = entry.offset;
  loc.length = entry.length;
  loc.entry_checksum = HexU64(entry.xxh3);
  loc.entry_syntax = entry.transfer_syntax;
  loc.hot_path = r.location.tier == Location::Tier::kHot ? r.location.hot_path : "";
  return loc;
}

}  // namespace

StudyMigration::StudyMigration(Archive* archive, const TieringOptions& options, std::string study_uid,
                               Catalog* catalog)
    : archive_(archive), catalog_(catalog ? catalog : archive->catalog()), opt_(options), study_uid_(std::move(study_uid)),
      owner_(options.node_id + "/" + std::to_string(getpid())), key_(NewPackKey()) {}

StudyMigration::~StudyMigration() {
  if (keeper_) keeper_->Stop();
}

std::string StudyMigration::NewPackKey() const {
  // Unique per attempt (time, node, process, counter): no two claims ever name one object.
  static std::atomic<uint64_t> counter{0};
  std::string node;
  for (char c : opt_.node_id) node += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.') ? c : '_';
  const std::string h = HexU64(Xxh3(study_uid_));
  return "packs/" + h.substr(0, 2) + "/" + study_uid_ + "/" + std::to_string(NowMs()) + "-" + node + "-" +
         std::to_string(getpid()) + "-" + std::to_string(counter.fetch_add(1)) + ".zip";
}

std::string StudyMigration::StateName() const { return uploaded_ ? "uploaded" : "claimed"; }

bool StudyMigration::ClaimLost() const { return keeper_ && keeper_->lost(); }

Status StudyMigration::Claim() {
  Catalog* cat = catalog_;
  STRATA_ASSIGN_OR_RETURN(token_, cat->ClaimMigration(study_uid_, owner_, key_, opt_.lease_ms));
  // Listed under the claim: what is hot now is ours to pack.
  STRATA_ASSIGN_OR_RETURN(auto all, cat->ListInstances(study_uid_, "", ""));
  uint64_t hot_bytes = 0;
  std::vector<InstanceRecord> cold;
  for (auto& r : all) {
    if (r.location.tier == Location::Tier::kHot) {
      hot_bytes += r.size;
      sources_.push_back(std::move(r));
    } else {
      cold.push_back(std::move(r));
    }
  }
  STRATA_ASSIGN_OR_RETURN(old_packs_, cat->ListPacks(study_uid_));
  // Compaction: a pack holding entries no row references any more (deleted, or replaced
  // while it was being packed) is rewritten with its live entries only, as a consolidation
  // of just that pack would be.
  std::map<std::string, uint64_t> live;
  for (const auto& r : cold) ++live[r.location.pack_key];
  std::set<std::string> dead;
  for (const auto& p : old_packs_)
    if (live[p.pack_key] < p.entries) dead.insert(p.pack_key);
  if (sources_.empty() && dead.empty()) {
    nothing_to_do_ = true;
    return cat->FinishMigration(study_uid_, token_, "done", "nothing hot");
  }
  for (const auto& p : old_packs_) generation_ = std::max(generation_, p.generation + 1);
  std::set<std::string> keys;
  if (ShouldConsolidate(old_packs_, hot_bytes, opt_.consolidation)) {
    for (const auto& p : old_packs_) keys.insert(p.pack_key);
    for (auto& r : cold) {
      keys.insert(r.location.pack_key);
      sources_.push_back(std::move(r));
    }
  } else {
    keys = dead;
    for (auto& r : cold)
      if (dead.count(r.location.pack_key)) sources_.push_back(std::move(r));
  }
  compacted_packs_ = dead.size();
  retire_.assign(keys.begin(), keys.end());
  if (sources_.empty()) return RetireEmptyPacks();
  return Status::OK();
}

Status StudyMigration::RetireEmptyPacks() {
  // Dead packs with no live entry at all: no new pack to build. Under our claim no switch
  // can point a row at them again; the row goes only if no row references it (I2).
  nothing_to_do_ = true;
  for (const auto& key : retire_) {
    Status d = catalog_->DeletePackRecord(key);
    if (!d.ok()) return d;  // still referenced (kConflict), or the catalog failed: the object stays
    Status o = archive_->cold()->Delete(key);
    spdlog::info("event=compact_retire_empty_pack study={} pack={} status=\"{}\"", study_uid_, key, o.ToString());
  }
  return catalog_->FinishMigration(study_uid_, token_, "done", "retired empty packs");
}

Status StudyMigration::BuildAndUpload(const MigrationProgress& progress) {
  ColdStore* cold = archive_->cold();
  STRATA_ASSIGN_OR_RETURN(upload_, cold->StartUpload(key_));
  const uint64_t part = std::max<uint64_t>(opt_.part_size, cold->min_part_size());
  auto uploader = std::make_unique<PartUploader>(upload_.get(), part, opt_.parallel_parts);
  PackWriter writer([&](std::string_view b) { return uploader->Write(b); });
  Status st = WriteEntries(&writer, progress);
  if (st.ok()) {
    packed_at_ms_ = NowMs();
    auto summary = writer.Finish(StudyMetadata(sources_.front(), opt_.node_id, packed_at_ms_, generation_));
    if (summary.ok()) summary_ = std::move(summary).value();
    else st = summary.status();
  }
  if (st.ok()) st = uploader->Finish();
  uploader.reset();
  if (st.ok()) st = upload_->Complete();
  if (!st.ok()) return st;  // Fail() aborts the upload
  uploaded_ = true;
  // Recorded, fenced: a claim lost by now stops here rather than at the switch.
  return catalog_->RenewMigration(study_uid_, token_, "uploaded", opt_.lease_ms);
}

Status StudyMigration::WriteEntries(PackWriter* writer, const MigrationProgress& progress) {
  // Reading (and encoding) runs ahead on worker threads; entries are added strictly in order.
  const size_t ahead = std::max<size_t>(2, std::thread::hardware_concurrency() + 1);
  auto prepare = [this](const InstanceRecord& r) { return PrepareEntry(archive_, opt_.transcoder, r); };
  std::deque<std::future<Prepared>> inflight;
  size_t next = 0;
  Status st;
  locations_.clear();
  for (size_t idx = 0; idx < sources_.size() && st.ok(); ++idx) {
    while (next < sources_.size() && inflight.size() < ahead)
      inflight.push_back(std::async(std::launch::async, prepare, std::cref(sources_[next++])));
    Prepared prep = inflight.front().get();
    inflight.pop_front();
    if (!prep.status.ok()) {
      st = prep.status;
      break;
    }
    if (prep.info.lossless_verified) ++proofs_;
    if (prep.proof_failed) ++proof_failures_;
    if (ClaimLost()) {
      st = Status::Conflict("claim on " + study_uid_ + " lost during upload");
      break;
    }
    auto entry = writer->AddEntry(prep.info, prep.stored);
    if (!entry.ok()) {
      st = entry.status();
      break;
    }
    locations_.push_back(PackLocation(*entry, key_, sources_[idx]));
    bytes_in_ += prep.original_size;
    if (progress) progress(1, prep.original_size, study_uid_);
  }
  for (auto& f : inflight) f.wait();  // stopped early: let the readers finish before unwinding
  return st;
}

Status StudyMigration::Verify() {
  if (!uploaded_) return Status::Internal("Verify before BuildAndUpload");
  ColdStore* cold = archive_->cold();
  STRATA_ASSIGN_OR_RETURN(ObjectInfo head, cold->Head(key_));
  if (head.size != summary_.total_size)
    return Status::Corruption("pack " + key_ + " is " + std::to_string(head.size) + " bytes in the store, wrote " +
                              std::to_string(summary_.total_size));
  const std::string key = key_;
  STRATA_ASSIGN_OR_RETURN(auto reader, PackReader::Open([cold, key](uint64_t o, uint64_t l) {
                                          return cold->GetRange(key, o, l);
                                        }, head.size, key_));
  PackVerifyReport vr = reader.Verify();
  if (!vr.ok()) return vr.ToStatus();
  if (ClaimLost()) return Status::Conflict("claim on " + study_uid_ + " lost during verify");
  verified_ = true;
  return Status::OK();
}

Status StudyMigration::Switch() {
  if (!verified_) return Status::Internal("Switch before Verify");
  if (ClaimLost()) return Status::Conflict("claim on " + study_uid_ + " lost before the switch");
  if (before_switch_) before_switch_();
  std::vector<std::string> sops;
  std::vector<Location> expected;
  for (const auto& r : sources_) {
    sops.push_back(r.sop_uid);
    Location from;
    from.tier = r.location.tier;
    if (from.tier == Location::Tier::kHot) {
      from.hot_path = r.location.hot_path;
    } else {
      from.pack_key = r.location.pack_key;
      from.offset = r.location.offset;
    }
    expected.push_back(std::move(from));
  }
  PackRecord pack{key_, study_uid_, generation_, summary_.total_size, summary_.entries.size(),
                  HexU64(summary_.manifest_xxh3), packed_at_ms_};
  auto switched = catalog_->SwitchToPack(pack, MigrationFence{study_uid_, token_}, sops, expected,
                                                    locations_, retire_);
  if (switched.ok()) {
    outcome_ = Outcome::kSwitched;
    switched_ = std::move(switched).value();
    return Status::OK();
  }
  if (switched.status().code() == Status::Code::kConflict) {
    outcome_ = Outcome::kNotSwitched;  // refused before anything was written: a definite no
    return switched.status();
  }
  // Ambiguous (the commit's answer was lost, the connection died...): find out what is true.
  outcome_ = Outcome::kUnknown;
  Status rb = ReadBackSwitch();
  spdlog::warn("event=migrate_switch_ambiguous study={} pack={} error=\"{}\" read_back=\"{}\" switched={}",
               study_uid_, key_, switched.status().ToString(), rb.ToString(), outcome_ == Outcome::kSwitched);
  return outcome_ == Outcome::kSwitched ? Status::OK() : switched.status();
}

Status StudyMigration::ReadBackSwitch() {
  STRATA_ASSIGN_OR_RETURN(auto now, catalog_->ListInstances(study_uid_, "", ""));
  std::set<std::string> here;
  for (const auto& r : now)
    if (r.location.tier == Location::Tier::kCold && r.location.pack_key == key_) here.insert(r.sop_uid);
  // No row pointing at the pack does not prove a rollback (a commit may still land): the
  // outcome stays unknown and the object is left to the janitor.
  if (here.empty()) return Status::OK();
  switched_.assign(sources_.size(), false);
  for (size_t k = 0; k < sources_.size(); ++k) switched_[k] = here.count(sources_[k].sop_uid) > 0;
  outcome_ = Outcome::kSwitched;
  return Status::OK();
}

Status StudyMigration::DeleteHotCopies() {
  if (outcome_ != Outcome::kSwitched) return Status::Internal("DeleteHotCopies before a switch");
  Catalog* cat = catalog_;
  std::vector<std::string> cleared;
  moved_ = 0;
  for (size_t k = 0; k < sources_.size(); ++k) {
    if (!switched_[k]) continue;  // replaced or moved meanwhile: its file stays
    ++moved_;
    if (sources_[k].location.tier != Location::Tier::kHot) continue;
    Status rm = archive_->hot()->Remove(sources_[k].location.hot_path);
    if (rm.ok() || rm.IsNotFound()) cleared.push_back(sources_[k].sop_uid);
    else spdlog::warn("event=migrate_hot_remove_failed path={} error=\"{}\"", sources_[k].location.hot_path,
                      rm.ToString());  // the row keeps the trail; the janitor retries
  }
  STRATA_RETURN_IF_ERROR(cat->ClearHotPaths(cleared));
  if (!retire_.empty()) {
    // The switch deleted the rows of old packs nothing references any more; only those go.
    STRATA_ASSIGN_OR_RETURN(auto still, cat->ListPacks(study_uid_));
    std::set<std::string> rows;
    for (const auto& p : still) rows.insert(p.pack_key);
    for (const auto& old : retire_) {
      if (rows.count(old)) continue;
      Status d = archive_->cold()->Delete(old);
      spdlog::info("event=consolidate_retire_pack study={} pack={} status=\"{}\"", study_uid_, old, d.ToString());
    }
  }
  return cat->FinishMigration(study_uid_, token_, "done", "");
}

Status StudyMigration::Fail(const Status& why) {
  if (keeper_) keeper_->Stop();
  if (token_ == 0) return why;  // the claim was never ours: nothing to undo
  switch (outcome_) {
    case Outcome::kSwitched:
      break;  // rows point at the pack: keep it; the janitor removes the hot leftovers
    case Outcome::kUnknown:
      spdlog::warn("event=migrate_outcome_unknown study={} pack={}: object kept for the janitor", study_uid_, key_);
      break;
    case Outcome::kNotSwitched:
      if (uploaded_) {
        Status d = archive_->cold()->Delete(key_);  // definitely unreferenced
        if (!d.ok()) spdlog::warn("event=migrate_delete_failed pack={} error=\"{}\"", key_, d.ToString());
      } else if (upload_) {
        Status a = upload_->Abort();
        if (!a.ok()) spdlog::warn("event=migrate_abort_failed pack={} error=\"{}\"", key_, a.ToString());
      }
      break;
  }
  // Conditional on our token: a claim taken over meanwhile is not touched (kConflict then).
  Status rec = catalog_->FinishMigration(study_uid_, token_, "failed", why.ToString().substr(0, 500));
  spdlog::warn("event=migrate_failed study={} pack={} error=\"{}\" recorded=\"{}\"", study_uid_, key_, why.ToString(),
               rec.ToString());
  return why;
}

Status StudyMigration::Run(MigrationReport* report, const MigrationProgress& progress) {
  if (Status s = Claim(); !s.ok()) return token_ == 0 ? s : Fail(s);
  if (nothing_to_do_) return Status::OK();
  keeper_ = std::make_unique<LeaseKeeper>(catalog_, MigrationFence{study_uid_, token_}, opt_.lease_ms,
                                          [this] { return StateName(); });
  keeper_->Start();
  if (Status s = BuildAndUpload(progress); !s.ok()) return Fail(s);
  if (Status s = Verify(); !s.ok()) return Fail(s);
  if (Status s = Switch(); !s.ok()) return Fail(s);
  keeper_->Stop();
  if (Status s = DeleteHotCopies(); !s.ok()) return Fail(s);
  report->studies += 1;
  report->compacted_packs += compacted_packs_;
  report->instances += moved_;
  report->bytes_in += bytes_in_;
  report->pack_bytes += summary_.total_size;
  report->lossless_verified += proofs_;
  report->lossless_proof_failed += proof_failures_;
  spdlog::info("event=migrated study={} pack={} generation={} instances={} consolidated_packs={} "
               "compacted_packs={} bytes_in={} pack_bytes={}", study_uid_, key_, generation_, moved_, retire_.size(),
               compacted_packs_, bytes_in_, summary_.total_size);
  return Status::OK();
}

}  // namespace strata
