#include "tiering/catalog_rebuild.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "archive/correction_log.h"
#include "archive/delete_tombstone.h"
#include "archive/instance_scan.h"
#include "archive/rejection.h"
#include "model/uid.h"
#include "pack/pack_reader.h"
#include "util/checksum.h"
#include "util/file_util.h"
#include "util/log.h"

namespace strata {
namespace {

// One stored copy of an instance, as a catalog row would name it.
struct Copy {
  InstanceRecord rec;
  int pack = -1;  // index into packs, or -1 for a hot file
};

struct PackInfo {
  PackRecord row;
  bool has_generation = false;
  bool referenced = false;
};

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool IsHexByte(const std::string& s) {
  return s.size() == 2 && std::isxdigit(static_cast<unsigned char>(s[0])) &&
         std::isxdigit(static_cast<unsigned char>(s[1]));
}

class Rebuilder {
 public:
  Rebuilder(Archive* a, const RebuildOptions& o, RebuildReport* rep)
      : a_(a), env_(a->env()), opt_(o), rep_(rep) {}

  Status Run() {
    STRATA_ASSIGN_OR_RETURN(CatalogStats stats, a_->catalog()->Stats());
    if (stats.instances != 0 || stats.packs != 0)
      return Status::InvalidArgument("the catalog is not empty (" + std::to_string(stats.instances) + " instances, " +
                                     std::to_string(stats.packs) +
                                     " packs): rebuild-catalog only fills an empty catalog (remove it, or name a new "
                                     "one with --catalog)");
    STRATA_ASSIGN_OR_RETURN(tombstones_, ReadTombstones(a_->cold()));
    STRATA_ASSIGN_OR_RETURN(changes_, ReadCorrectionRecords(a_->cold()));
    STRATA_RETURN_IF_ERROR(ReadPacks());
    STRATA_RETURN_IF_ERROR(ReadHot());
    RankOldGenerations();
    std::vector<InstanceRecord> rows = Resolve();
    for (auto& p : packs_) {
      if (!p.referenced) continue;
      STRATA_RETURN_IF_ERROR(a_->catalog()->RestorePackRecord(p.row));
      ++rep_->packs_referenced;
    }
    // Each change after the instances received up to its time and before later ones, as it
    // happened: a later instance of a corrected study keeps the corrected study row, and a
    // study sent for a merged patient after the merge is not merged.
    size_t next = 0;
    for (const CorrectionChange& change : changes_) {
      size_t end = next;
      while (end < rows.size() && rows[end].received_ms <= change.at_ms) ++end;
      STRATA_RETURN_IF_ERROR(AddRows(std::vector<InstanceRecord>(rows.begin() + next, rows.begin() + end)));
      next = end;
      STRATA_RETURN_IF_ERROR(Replay(change));
    }
    STRATA_RETURN_IF_ERROR(AddRows(std::vector<InstanceRecord>(rows.begin() + next, rows.end())));
    return ReapplyRejections(rows);
  }

 private:
  void Problem(std::string what) {
    spdlog::warn("event=rebuild_catalog_skip what=\"{}\"", what);
    rep_->problems.push_back(std::move(what));
  }

  Status ReadPacks() {
    ColdStore* cold = a_->cold();
    STRATA_ASSIGN_OR_RETURN(auto objects, cold->List("packs/"));
    uint64_t done = 0;
    for (const auto& obj : objects) {
      if (opt_.progress) opt_.progress("packs", done++, objects.size());
      if (!EndsWith(obj.key, ".zip")) continue;
      const std::string key = obj.key;
      auto reader = PackReader::Open([cold, key](uint64_t o, uint64_t l) { return cold->GetRange(key, o, l); },
                                     obj.size, key);
      if (!reader.ok()) {
        if (reader.status().code() == Status::Code::kUnavailable) return reader.status();
        Problem("pack " + key + ": " + reader.status().ToString());
        continue;
      }
      ++rep_->packs;
      STRATA_RETURN_IF_ERROR(ReadPack(obj, reader.value()));
    }
    return Status::OK();
  }

  Status ReadPack(const ObjectInfo& obj, const PackReader& reader) {
    const nlohmann::json& study = reader.study();
    PackInfo info;
    info.row.pack_key = obj.key;
    info.row.size = obj.size;
    info.row.entries = reader.entries().size();
    info.row.checksum = HexU64(reader.manifest_xxh3());
    auto uid = study.find("StudyInstanceUID");
    if (uid == study.end() || !uid->is_string() || !ValidateUid(uid->get<std::string>(), "StudyInstanceUID").ok()) {
      Problem("pack " + obj.key + ": the manifest names no valid StudyInstanceUID");
      return Status::OK();
    }
    info.row.study_uid = uid->get<std::string>();
    if (auto at = study.find("PackedAtMs"); at != study.end() && at->is_number_integer())
      info.row.created_ms = at->get<int64_t>();
    if (auto g = study.find("Generation"); g != study.end() && g->is_number_integer()) {
      info.row.generation = g->get<int64_t>();
      info.has_generation = true;
    }
    const int index = static_cast<int>(packs_.size());
    packs_.push_back(info);
    for (const PackEntry& e : reader.entries()) {
      const std::string where = "pack " + obj.key + " entry " + e.name;
      auto bytes = reader.ReadEntry(e.name);  // CRC-32 and XXH3 checked
      if (!bytes.ok()) {
        if (bytes.status().code() == Status::Code::kUnavailable) return bytes.status();
        Problem(where + ": " + bytes.status().ToString());
        continue;
      }
      Copy c;
      c.pack = index;
      Status s = ParseBytes(bytes.value(), &c.rec);
      if (s.ok() && (c.rec.sop_uid != e.sop_instance_uid || c.rec.series_uid != e.series_instance_uid ||
                     c.rec.study_uid != info.row.study_uid))
        s = Status::Corruption("its data set names another instance, series or study than the manifest");
      if (!s.ok()) {
        Problem(where + ": " + s.ToString());
        continue;
      }
      ++rep_->pack_entries;
      const bool transcoded = e.transfer_syntax != e.original_transfer_syntax || e.xxh3 != e.original_xxh3;
      if (transcoded) {  // the row describes the instance as received
        c.rec.transfer_syntax = e.original_transfer_syntax;
        c.rec.size = e.original_size;
        c.rec.checksum = HexU64(e.original_xxh3);
        c.rec.dataset_checksum = e.dataset_xxh3;
      }
      c.rec.received_ms = e.received_ms > 0 ? e.received_ms : info.row.created_ms;
      Location& loc = c.rec.location;
      loc.tier = Location::Tier::kCold;
      loc.pack_key = obj.key;
      loc.offset = e.offset;
      loc.length = e.length;
      loc.entry_checksum = HexU64(e.xxh3);
      loc.entry_syntax = e.transfer_syntax;
      copies_.push_back(std::move(c));
    }
    return Status::OK();
  }

  // Reads an entry with the reader ingest uses: it scans files, so the bytes go through one.
  Status ParseBytes(const std::string& bytes, InstanceRecord* r) {
    const std::string temp = a_->hot()->NewIncomingPath();
    Status s;
    {
      STRATA_ASSIGN_OR_RETURN(auto f, env_->NewWritableFile(temp));
      s = f->Append(bytes);
      Status c = f->Close();
      if (s.ok()) s = c;
    }
    DatasetScan scan;
    if (s.ok()) s = ScanInstanceFile(env_, temp, &scan, r);
    Status rm = env_->RemoveFile(temp);
    if (!rm.ok()) spdlog::warn("event=rebuild_catalog_temp_left path={} error=\"{}\"", temp, rm.ToString());
    return s;
  }

  // The hot layout: <h1>/<h2>/<study>/<series>/<file>.dcm.
  Status ReadHot() {
    std::vector<std::string> files;
    STRATA_RETURN_IF_ERROR(ListHot("", 0, &files));
    uint64_t done = 0;
    for (const auto& rel : files) {
      if (opt_.progress) opt_.progress("hot files", done++, files.size());
      const std::string abs = a_->hot()->AbsolutePath(rel);
      Copy c;
      DatasetScan scan;
      Status s = ScanInstanceFile(env_, abs, &scan, &c.rec);
      if (!s.ok()) {
        Problem("hot " + rel + ": " + s.ToString());
        continue;
      }
      // The name carries the checksum the store computed; a file cut short does not match.
      const std::string name = rel.substr(rel.rfind('/') + 1);
      const std::string expect = c.rec.sop_uid + "." + c.rec.checksum.substr(0, 8) + ".";
      if (name.compare(0, expect.size(), expect) != 0) {
        Problem("hot " + rel + ": incomplete (its checksum is not the one in its name)");
        continue;
      }
      STRATA_ASSIGN_OR_RETURN(c.rec.received_ms, env_->ModifiedMs(abs));
      c.rec.location.tier = Location::Tier::kHot;
      c.rec.location.hot_path = rel;
      ++rep_->hot_files;
      copies_.push_back(std::move(c));
    }
    return Status::OK();
  }

  Status ListHot(const std::string& rel, int depth, std::vector<std::string>* out) {
    const std::string abs = rel.empty() ? a_->hot()->root() : a_->hot()->AbsolutePath(rel);
    auto names = env_->ListDir(abs);
    if (!names.ok()) return names.status().IsNotFound() ? Status::OK() : names.status();
    std::sort(names->begin(), names->end());
    for (const auto& name : names.value()) {
      if (depth == 0 && !name.empty() && name[0] == '.') continue;  // .incoming
      const std::string child = rel.empty() ? name : JoinPath(rel, name);
      if (depth < 4) {
        if (depth < 2 && !IsHexByte(name)) continue;  // not the layout's
        if (env_->IsDirectory(a_->hot()->AbsolutePath(child))) STRATA_RETURN_IF_ERROR(ListHot(child, depth + 1, out));
      } else if (EndsWith(name, ".dcm") && name.find(".tmp-") == std::string::npos) {
        out->push_back(child);
      }
    }
    return Status::OK();
  }

  // Packs from before the manifest carried its generation: ranked by packing time per study.
  void RankOldGenerations() {
    std::map<std::string, std::vector<PackInfo*>> by_study;
    for (auto& p : packs_)
      if (!p.has_generation) by_study[p.row.study_uid].push_back(&p);
    for (auto& [study, list] : by_study) {
      std::sort(list.begin(), list.end(), [](const PackInfo* x, const PackInfo* y) {
        return std::tie(x->row.created_ms, x->row.pack_key) < std::tie(y->row.created_ms, y->row.pack_key);
      });
      for (size_t k = 0; k < list.size(); ++k) list[k]->row.generation = static_cast<int64_t>(k) + 1;
    }
  }

  // Newest first: received time, a pack over a hot file, generation, packing time, key.
  auto Rank(const Copy& c) const {
    const PackInfo* p = c.pack >= 0 ? &packs_[c.pack] : nullptr;
    return std::make_tuple(c.rec.received_ms, p ? 1 : 0, p ? p->row.generation : 0, p ? p->row.created_ms : 0,
                           p ? p->row.pack_key : c.rec.location.hot_path);
  }

  std::vector<InstanceRecord> Resolve() {
    std::map<std::string, std::vector<size_t>> by_sop;
    for (size_t k = 0; k < copies_.size(); ++k) {
      // Deleted: received at or before the row a delete removed (a later store is alive).
      auto dead = tombstones_.find(copies_[k].rec.sop_uid);
      if (dead != tombstones_.end() && copies_[k].rec.received_ms <= dead->second) {
        ++rep_->deleted;
        continue;
      }
      by_sop[copies_[k].rec.sop_uid].push_back(k);
    }
    std::vector<InstanceRecord> rows;
    rows.reserve(by_sop.size());
    std::set<std::string> studies;
    for (auto& [sop, idx] : by_sop) {
      std::sort(idx.begin(), idx.end(), [&](size_t x, size_t y) { return Rank(copies_[x]) > Rank(copies_[y]); });
      Copy& win = copies_[idx.front()];
      rep_->superseded += idx.size() - 1;
      if (win.pack >= 0) {
        packs_[win.pack].referenced = true;
        for (size_t k : idx)  // the same bytes still in the hot tier: the switch's trail
          if (copies_[k].pack < 0 && copies_[k].rec.checksum == win.rec.checksum) {
            win.rec.location.hot_path = copies_[k].rec.location.hot_path;
            ++rep_->trails;
            break;
          }
      }
      studies.insert(win.rec.study_uid);
      rows.push_back(std::move(win.rec));
    }
    copies_.clear();
    rep_->studies = studies.size();
    // In received order: the first instance of a patient, study and series names it, as at ingest.
    std::sort(rows.begin(), rows.end(), [](const InstanceRecord& x, const InstanceRecord& y) {
      return std::tie(x.received_ms, x.instance_number, x.sop_uid) < std::tie(y.received_ms, y.instance_number, y.sop_uid);
    });
    return rows;
  }

  // One correction or merge through the catalog call that made it, with its time. kNotFound:
  // the study or patient is gone (deleted since, or a retried merge already done): skipped.
  Status Replay(const CorrectionChange& c) {
    Catalog* cat = a_->catalog();
    auto done = c.kind == "merge"
                    ? cat->MergePatients(c.from_id, c.from_issuer, c.to_id, c.to_issuer, c.who, c.reason, c.at_ms)
                    : cat->CorrectStudy(c.study_uid, c.changes, c.who, c.reason, c.at_ms);
    if (done.status().IsNotFound()) {
      ++rep_->corrections_skipped;
      return Status::OK();
    }
    if (!done.ok()) return done.status().WithContext("re-applying a " + c.kind + " of " + std::to_string(c.at_ms));
    ++rep_->corrections_replayed;
    return Status::OK();
  }

  // IOCM rejection notes are stored instances: each KOS row is read back and, when it is a
  // rejection note, its rejection recorded again (the rejected instances hidden and refused
  // when sent again). The grace period restarts at the rebuild: later, never earlier.
  Status ReapplyRejections(const std::vector<InstanceRecord>& rows) {
    for (const InstanceRecord& r : rows) {
      if (r.sop_class_uid != kKeyObjectSelectionSopClass) continue;
      auto bytes = a_->Read(r);
      if (!bytes.ok()) {
        if (bytes.status().code() == Status::Code::kUnavailable) return bytes.status();
        Problem("key object " + r.sop_uid + ": " + bytes.status().ToString());
        continue;
      }
      const std::string temp = a_->hot()->NewIncomingPath();
      Status s;
      {
        STRATA_ASSIGN_OR_RETURN(auto f, env_->NewWritableFile(temp));
        s = f->Append(bytes.value());
        Status c = f->Close();
        if (s.ok()) s = c;
      }
      Result<std::optional<RejectionNote>> note = s.ok() ? ReadRejectionNote(temp) : Result<std::optional<RejectionNote>>(s);
      Status rm = env_->RemoveFile(temp);
      if (!rm.ok()) spdlog::warn("event=rebuild_catalog_temp_left path={} error=\"{}\"", temp, rm.ToString());
      if (!note.ok()) {
        Problem("key object " + r.sop_uid + ": " + note.status().ToString());
        continue;
      }
      if (!note.value()) continue;  // an ordinary key object selection
      LifecycleCause cause;
      cause.action = "reject";
      cause.who = "rebuild-catalog";
      cause.reason = (*note)->reason_code + " " + RejectionReasonMeaning((*note)->reason_code) + " (note " +
                     (*note)->note_sop_uid + ", re-applied by rebuild-catalog)";
      STRATA_ASSIGN_OR_RETURN(size_t hidden, a_->catalog()->RejectInstances((*note)->rejected, cause));
      ++rep_->rejection_notes;
      rep_->rejected += hidden;
    }
    return Status::OK();
  }

  Status AddRows(const std::vector<InstanceRecord>& rows) {
    const size_t batch = std::max<size_t>(1, opt_.batch);
    for (size_t start = 0; start < rows.size(); start += batch) {
      if (opt_.progress) opt_.progress("instances", start, rows.size());
      std::vector<InstanceRecord> part(rows.begin() + start, rows.begin() + std::min(rows.size(), start + batch));
      STRATA_ASSIGN_OR_RETURN(auto added, a_->catalog()->AddInstances(part, /*replace=*/false));
      for (size_t k = 0; k < added.size(); ++k) {
        if (added[k].outcome == AddOutcome::kAdded) ++rep_->instances;
        else Problem("instance " + part[k].sop_uid + ": already in the catalog");
      }
    }
    return Status::OK();
  }

  Archive* a_;
  Env* env_;
  const RebuildOptions& opt_;
  RebuildReport* rep_;
  std::vector<PackInfo> packs_;
  std::vector<Copy> copies_;
  std::map<std::string, int64_t> tombstones_;  // SOP Instance UID -> deleted up to this received time
  std::vector<CorrectionChange> changes_;       // corrections and merges, in the order made
};

}  // namespace

Result<RebuildReport> RebuildCatalog(Archive* archive, const RebuildOptions& options) {
  RebuildReport rep;
  Rebuilder r(archive, options, &rep);
  STRATA_RETURN_IF_ERROR(r.Run());
  spdlog::info("event=rebuild_catalog packs={} pack_entries={} hot_files={} instances={} studies={} pack_rows={} "
               "superseded={} trails={} deleted={} corrections={} corrections_skipped={} rejection_notes={} rejected={} "
               "problems={}",
               rep.packs, rep.pack_entries, rep.hot_files, rep.instances, rep.studies, rep.packs_referenced,
               rep.superseded, rep.trails, rep.deleted, rep.corrections_replayed, rep.corrections_skipped,
               rep.rejection_notes, rep.rejected, rep.problems.size());
  return rep;
}

}  // namespace strata
