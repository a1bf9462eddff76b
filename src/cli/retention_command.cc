// `strata retention [--dry-run]`: applies lifecycle.retention now (what the converter does
// each pass): lists the studies whose StudyDate is past their rule and, without --dry-run,
// deletes them (Archive::Delete; packs keeping survivors are compacted by the next pass).
// With no rule configured it says so and deletes nothing.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "archive/archive.h"
#include "archive/retention.h"
#include "cli/commands.h"
#include "cli/serve_command.h"

namespace strata {

int RunRetention(const Config& config, const RetentionArgs& args) {
  auto policy = ParseRetentionPolicy(config.GetMap("lifecycle.retention"));
  if (!policy.ok()) {
    std::cerr << "strata retention: " << policy.status().ToString() << "\n";
    return 2;
  }
  if (policy->empty()) {
    std::printf("no retention rule configured (lifecycle.retention): nothing would be deleted\n");
    return 0;
  }
  auto aopts = ArchiveOptionsFromConfig(config);
  if (!aopts.ok()) {
    std::cerr << "strata retention: " << aopts.status().ToString() << "\n";
    return 2;
  }
  auto archive = Archive::Open(aopts.value());
  if (!archive.ok()) {
    std::cerr << "strata retention: " << archive.status().ToString() << "\n";
    return 1;
  }
  const std::string today = args.today.empty() ? TodayYmd() : args.today;
  auto expired = FindExpiredStudies(archive->get(), *policy, today);
  if (!expired.ok()) {
    std::cerr << "strata retention: " << expired.status().ToString() << "\n";
    return expired.status().code() == Status::Code::kInvalidArgument ? 2 : 1;
  }
  for (const auto& e : *expired)
    std::printf("%s %s study=%s study_date=%s modalities=%s instances=%llu rule=%lldd\n",
                args.dry_run ? "would delete" : "deleting", today.c_str(), e.study_uid.c_str(), e.study_date.c_str(),
                e.modalities.c_str(), (unsigned long long)e.instances, (long long)e.keep_days);
  if (args.dry_run) {
    std::printf("%zu studies would be deleted (dry run: nothing changed)\n", expired->size());
    return 0;
  }
  const char* user = std::getenv("USER");
  const std::string who = std::string("cli:") + (user ? user : std::to_string(getuid()));
  auto done = ApplyRetention(archive->get(), *policy, today, who);
  if (!done.ok()) {
    std::cerr << "strata retention: " << done.status().ToString() << "\n";
    return 1;
  }
  std::printf("%zu studies deleted\n", done->size());
  return 0;
}

}  // namespace strata
