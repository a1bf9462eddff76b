#include <iostream>

#include "archive/archive.h"
#include "cli/commands.h"
#include "cli/serve_command.h"
#include "pack/pack_tool.h"
#include "tiering/scrub_repair.h"
#include "tiering/scrubber.h"

namespace strata {

int RunVerify(const Config& config, const VerifyArgs& args) {
  auto aopts = ArchiveOptionsFromConfig(config);
  if (!aopts.ok()) {
    std::cerr << "strata verify: " << aopts.status().ToString() << "\n";
    return 2;
  }
  auto archive = Archive::Open(aopts.value());
  if (!archive.ok()) {
    std::cerr << "strata verify: " << archive.status().ToString() << "\n";
    return 1;
  }
  if (args.repair && !args.hot) {
    std::cerr << "strata verify: --repair needs --hot\n";
    return 2;
  }
  int rc_repair = 0;
  if (ColdStore* replica = (*archive)->replica()) {
    // First both stores against each other, so the scrub below reads restored packs.
    RepairOptions ro;
    auto rp = RepairPacks(archive->get(), replica, ro);
    if (!rp.ok()) {
      std::cerr << "strata verify: " << rp.status().ToString() << "\n";
      return 1;
    }
    for (const auto& p : rp->repaired) std::cout << "RESTORED " << p << "\n";
    for (const auto& p : rp->problems) std::cout << "PROBLEM " << p << "\n";
    std::cout << "checked " << rp->packs << " packs in both stores (replica " << replica->Describe() << "): "
              << rp->primary_restored << " restored in the primary, " << rp->replica_restored
              << " in the replica, " << rp->problems.size() << " problem(s)\n";
    if (!rp->ok()) rc_repair = 1;
  }
  ScrubOptions so;
  so.hot = args.hot;
  so.repair = args.repair;
  so.hot_grace_ms = aopts->hot_reconcile_grace_ms;
  auto r = Scrub(archive->get(), so);
  if (!r.ok()) {
    std::cerr << "strata verify: " << r.status().ToString() << "\n";
    return 1;
  }
  for (const auto& p : r->problems) std::cout << "PROBLEM " << p << "\n";
  for (const auto& p : r->repaired) std::cout << "REPAIRED " << p << "\n";
  std::cout << "verified " << r->packs << " packs, " << r->entries << " entries, " << r->bytes / 1e6 << " MB";
  if (args.hot) std::cout << ", " << r->hot_files << " hot files";
  std::cout << ": " << (r->ok() ? "OK" : std::to_string(r->problems.size()) + " problem(s)") << "\n";
  return r->ok() && rc_repair == 0 ? 0 : 1;
}

int RunPackInspect(const std::string& file, bool json) {
  PackInspectOptions o;
  o.json = json;
  o.list_entries = true;
  Status s = PackInspect(file, std::cout, o);
  if (!s.ok()) std::cerr << "strata pack inspect: " << s.ToString() << "\n";
  return s.ok() ? 0 : 1;
}

int RunPackVerify(const std::string& file) {
  Status s = PackVerify(file, std::cout);
  if (!s.ok()) std::cerr << "strata pack verify: " << s.ToString() << "\n";
  return s.ok() ? 0 : 1;
}

int RunPackExtract(const std::string& file, const std::string& out_dir) {
  Status s = PackExtract(file, out_dir, std::cout);
  if (!s.ok()) std::cerr << "strata pack extract: " << s.ToString() << "\n";
  return s.ok() ? 0 : 1;
}

}  // namespace strata
