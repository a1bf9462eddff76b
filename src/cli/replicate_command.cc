// `strata replicate`: one pass of the backup queue now (tiering/replicator.h), then the
// queue's state. Exit 0 when nothing failed, 1 when some copy failed (it stays queued, to be
// retried after its backoff) or the pass failed, 2 for a bad configuration or no replica.
#include <cstdio>
#include <iostream>

#include "archive/archive.h"
#include "cli/commands.h"
#include "cli/replica_options.h"
#include "cli/serve_command.h"

namespace strata {

int RunReplicate(const Config& config, bool status_only) {
  auto aopts = ArchiveOptionsFromConfig(config);
  auto ropts = ReplicatorOptionsFromConfig(config);
  if (!aopts.ok() || !ropts.ok()) {
    std::cerr << "strata replicate: " << (aopts.ok() ? ropts.status() : aopts.status()).ToString() << "\n";
    return 2;
  }
  if (aopts->replica.url.empty()) {
    std::cerr << "strata replicate: no replica configured (--replica file:DIR or s3://BUCKET)\n";
    return 2;
  }
  auto archive = Archive::Open(aopts.value());
  if (!archive.ok()) {
    std::cerr << "strata replicate: " << archive.status().ToString() << "\n";
    return 1;
  }
  int rc = 0;
  if (!status_only) {
    ropts->batch = 1000000;  // everything due, now
    Replicator rep(archive->get(), (*archive)->replica(), ropts.value());
    auto r = rep.RunOnce();
    if (!r.ok()) {
      std::cerr << "strata replicate: " << r.status().ToString() << "\n";
      return 1;
    }
    for (const auto& e : r->errors) std::cout << "FAILED " << e << "\n";
    std::printf("queued %llu packs, replicated and verified %llu (%.1f MB copied), %llu failed (retried later), "
                "%llu removed, %llu tombstones and %llu correction records copied\n",
                (unsigned long long)r->queued, (unsigned long long)r->replicated, r->bytes / 1e6,
                (unsigned long long)r->failed, (unsigned long long)r->removed, (unsigned long long)r->tombstones,
                (unsigned long long)r->correction_records);
    rc = r->failed == 0 && r->errors.empty() ? 0 : 1;
  }
  auto st = (*archive)->catalog()->GetReplicaQueueStats();
  if (!st.ok()) {
    std::cerr << "strata replicate: " << st.status().ToString() << "\n";
    return 1;
  }
  std::printf("replica %s: %llu packs replicated (%.1f MB), %llu pending (%.1f MB, %llu failing); studies %llu of "
              "%llu replicated\n",
              (*archive)->replica()->Describe().c_str(), (unsigned long long)st->replicated, st->replicated_bytes / 1e6,
              (unsigned long long)st->pending, st->pending_bytes / 1e6, (unsigned long long)st->failing,
              (unsigned long long)st->studies_replicated, (unsigned long long)st->studies);
  if (!st->last_error.empty()) std::printf("last error: %s\n", st->last_error.c_str());
  return rc;
}

}  // namespace strata
