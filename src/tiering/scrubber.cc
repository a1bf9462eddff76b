#include "tiering/scrubber.h"

#include <map>

#include "pack/pack_reader.h"
#include "util/checksum.h"

namespace strata {

Result<ScrubReport> Scrub(Archive* archive, const ScrubOptions& options) {
  ScrubReport rep;
  Catalog* cat = archive->catalog();
  ColdStore* cold = archive->cold();
  STRATA_ASSIGN_OR_RETURN(auto packs, cat->ListPacks(""));
  std::map<std::string, std::vector<InstanceRecord>> by_study;
  uint64_t done = 0;
  for (const auto& p : packs) {
    if (options.progress) options.progress("packs", done++, packs.size());
    ++rep.packs;
    auto head = cold->Head(p.pack_key);
    if (!head.ok()) {
      rep.problems.push_back("pack " + p.pack_key + ": " + head.status().ToString());
      continue;
    }
    if (head->size != p.size)
      rep.problems.push_back("pack " + p.pack_key + ": size " + std::to_string(head->size) + " but the catalog says " +
                             std::to_string(p.size));
    const std::string key = p.pack_key;
    auto reader = PackReader::Open([cold, key](uint64_t o, uint64_t l) { return cold->GetRange(key, o, l); },
                                   head->size, key);
    if (!reader.ok()) {
      rep.problems.push_back("pack " + key + ": " + reader.status().ToString());
      continue;
    }
    PackVerifyReport vr = reader->Verify();
    rep.entries += vr.entries_checked;
    rep.bytes += vr.bytes_checked;
    for (const auto& pr : vr.problems)
      rep.problems.push_back("pack " + key + (pr.entry.empty() ? "" : " entry " + pr.entry) + ": " + pr.message);
    // Manifest vs catalog.
    auto it = by_study.find(p.study_uid);
    if (it == by_study.end()) {
      auto recs = cat->ListInstances(p.study_uid, "", "");
      if (!recs.ok()) return recs.status();
      it = by_study.emplace(p.study_uid, std::move(recs).value()).first;
    }
    for (const auto& r : it->second) {
      if (r.location.tier != Location::Tier::kCold || r.location.pack_key != key) continue;
      const PackEntry* e = reader->Find(r.sop_uid);
      const std::string where = "pack " + key + " entry " + r.series_uid + "/" + r.sop_uid + ".dcm";
      if (!e) {
        rep.problems.push_back(where + ": in the catalog but not in the pack's manifest");
        continue;
      }
      if (e->offset != r.location.offset || e->length != r.location.length)
        rep.problems.push_back(where + ": catalog offset/length differ from the manifest");
      if (HexU64(e->xxh3) != r.location.entry_checksum)
        rep.problems.push_back(where + ": catalog checksum differs from the manifest");
    }
  }
  if (options.hot) {
    // Hot files: every catalogued hot instance must read back with its checksum.
    Query q;
    q.level = QueryLevel::kStudy;
    STRATA_ASSIGN_OR_RETURN(auto studies, cat->Find(q));
    uint64_t n = 0;
    for (const auto& s : studies) {
      if (options.progress) options.progress("hot studies", n++, studies.size());
      STRATA_ASSIGN_OR_RETURN(auto recs, cat->ListInstances(s.at(tags::kStudyInstanceUID), "", ""));
      for (const auto& r : recs) {
        if (r.location.tier != Location::Tier::kHot) continue;
        ++rep.hot_files;
        auto b = archive->Read(r);
        if (!b.ok()) rep.problems.push_back("hot " + r.location.hot_path + ": " + b.status().ToString());
      }
    }
    // Files no row references (a crash between rename and commit).
    ReconcileReport rr;
    STRATA_RETURN_IF_ERROR(archive->ReconcileHot(options.hot_grace_ms, &rr, /*dry_run=*/!options.repair));
    for (const auto& path : rr.unknown) {
      if (options.repair)
        rep.repaired.push_back("hot " + path + ": not in the catalog; reconciled (see the event=hot_reconcile log)");
      else
        rep.problems.push_back("hot " + path + ": not in the catalog (strata verify --hot --repair re-indexes or removes it)");
    }
  }
  return rep;
}

}  // namespace strata
