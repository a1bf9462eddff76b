#include <iostream>

#include "archive/archive.h"
#include "cli/commands.h"
#include "cli/tiering_options.h"
#include "cli/serve_command.h"
#include "util/duration.h"
#include "util/progress.h"

namespace strata {

int RunMigrate(const Config& config, const MigrateArgs& args) {
  auto aopts = ArchiveOptionsFromConfig(config);
  auto copts = TieringOptionsFromConfig(config);
  if (!aopts.ok() || !copts.ok()) {
    std::cerr << "strata migrate: " << (aopts.ok() ? copts.status() : aopts.status()).ToString() << "\n";
    return 2;
  }
  int64_t older = -1;
  if (!args.older_than.empty()) {
    auto d = ParseDurationMs(args.older_than);
    if (!d.ok()) {
      std::cerr << "strata migrate: " << d.status().ToString() << "\n";
      return 2;
    }
    older = d.value();
  }
  auto archive = Archive::Open(aopts.value());
  if (!archive.ok()) {
    std::cerr << "strata migrate: " << archive.status().ToString() << "\n";
    return 1;
  }
  MigrationScheduler conv(archive->get(), copts.value());
  ProgressLine line("migrate", 0, 0);
  auto r = conv.RunOnce(args.study, older, [&](uint64_t n, uint64_t b, const std::string&) { line.Add(n, b); });
  if (!r.ok()) {
    std::cerr << "\nstrata migrate: " << r.status().ToString() << "\n";
    return 1;
  }
  line.Finish();
  std::printf("migrated %llu studies, %llu instances, %.1f MB -> %.1f MB in packs, %.2f s (%.1f MB/s); "
              "failed %llu, skipped %llu; lossless proofs %llu passed, %llu failed (stored as received)\n",
              (unsigned long long)r->studies, (unsigned long long)r->instances, r->bytes_in / 1e6, r->pack_bytes / 1e6,
              r->seconds, r->seconds > 0 ? r->bytes_in / 1e6 / r->seconds : 0.0, (unsigned long long)r->failed,
              (unsigned long long)r->skipped, (unsigned long long)r->lossless_verified,
              (unsigned long long)r->lossless_proof_failed);
  return r->failed ? 1 : 0;
}

}  // namespace strata
