// `strata delete --study UID [--series UID] [--sop UID]`: deletes from the catalog at once
// (every node stops seeing the instances), then the hot files and emptied packs; packs that
// keep survivors are compacted by the next converter pass (or `strata migrate`).
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "archive/archive.h"
#include "cli/commands.h"
#include "cli/serve_command.h"

namespace strata {

int RunDelete(const Config& config, const DeleteArgs& args) {
  auto aopts = ArchiveOptionsFromConfig(config);
  if (!aopts.ok()) {
    std::cerr << "strata delete: " << aopts.status().ToString() << "\n";
    return 2;
  }
  if (args.study.empty()) {
    std::cerr << "strata delete: --study is required\n";
    return 2;
  }
  auto archive = Archive::Open(aopts.value());
  if (!archive.ok()) {
    std::cerr << "strata delete: " << archive.status().ToString() << "\n";
    return 1;
  }
  const char* user = std::getenv("USER");
  const std::string who = std::string("cli:") + (user ? user : std::to_string(getuid()));
  auto r = (*archive)->Delete(args.study, args.series, args.sop, who);
  if (!r.ok()) {
    std::cerr << "strata delete: " << r.status().ToString() << "\n";
    return r.status().IsNotFound() ? 3 : (r.status().code() == Status::Code::kInvalidArgument ? 2 : 1);
  }
  std::printf("deleted %zu instances; %llu hot files removed, %zu packs deleted, %zu packs to compact\n",
              r->deleted.size(), (unsigned long long)r->hot_files_removed, r->packs_deleted.size(),
              r->packs_to_compact.size());
  return 0;
}

}  // namespace strata
