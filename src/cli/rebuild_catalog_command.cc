// `strata rebuild-catalog`: recreates a lost catalog from the packs and the hot tier
// (tiering/catalog_rebuild.h). Exit 0 when everything was read, 1 when some copy was skipped
// or the rebuild failed, 2 for a bad configuration.
#include <chrono>
#include <iostream>

#include "archive/archive.h"
#include "cli/commands.h"
#include "cli/serve_command.h"
#include "tiering/catalog_rebuild.h"

namespace strata {

int RunRebuildCatalog(const Config& config) {
  auto aopts = ArchiveOptionsFromConfig(config);
  if (!aopts.ok()) {
    std::cerr << "strata rebuild-catalog: " << aopts.status().ToString() << "\n";
    return 2;
  }
  auto archive = Archive::Open(aopts.value());
  if (!archive.ok()) {
    std::cerr << "strata rebuild-catalog: " << archive.status().ToString() << "\n";
    return 1;
  }
  const auto start = std::chrono::steady_clock::now();
  auto r = RebuildCatalog(archive->get());
  if (!r.ok()) {
    std::cerr << "strata rebuild-catalog: " << r.status().ToString() << "\n";
    return 1;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const auto& p : r->problems) std::cout << "SKIPPED " << p << "\n";
  std::printf("rebuilt %llu studies, %llu instances from %llu packs (%llu entries, %llu pack rows) and %llu hot "
              "files in %.2f s; %llu older copies superseded, %llu hot trails, %llu deleted copies left out; %llu corrections re-applied (%llu skipped), "
              "%llu rejection notes re-applied (%llu instances hidden); %zu problem(s)\n",
              (unsigned long long)r->studies, (unsigned long long)r->instances, (unsigned long long)r->packs,
              (unsigned long long)r->pack_entries, (unsigned long long)r->packs_referenced,
              (unsigned long long)r->hot_files, seconds, (unsigned long long)r->superseded,
              (unsigned long long)r->trails, (unsigned long long)r->deleted,
              (unsigned long long)r->corrections_replayed, (unsigned long long)r->corrections_skipped,
              (unsigned long long)r->rejection_notes, (unsigned long long)r->rejected, r->problems.size());
  return r->ok() ? 0 : 1;
}

}  // namespace strata
