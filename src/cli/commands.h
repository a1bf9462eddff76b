// The subcommands of `strata`, one file each. They share the configuration and return the
// process exit code.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace CLI {
class App;
}

namespace strata {

struct MigrateArgs {
  std::string older_than;  // "" = policy from config
  std::string study;
};
int RunMigrate(const Config& config, const MigrateArgs& args);

struct VerifyArgs {
  bool hot = false;
  bool repair = false;  // with hot: reconcile files the catalog does not know
};
int RunVerify(const Config& config, const VerifyArgs& args);

struct FindArgs {
  std::string level = "study";
  std::vector<std::string> keys;  // Keyword=value (value may use * ? and date ranges)
  size_t limit = 0;
  bool json = false;
};
// Queries the catalog directly (C-FIND matching rules), without a running server.
int RunFind(const Config& config, const FindArgs& args);

struct DeleteArgs {
  std::string study, series, sop;
};
// Deletes a study / series / instance. Exit 0 done, 3 nothing matched, 2 bad arguments.
int RunDelete(const Config& config, const DeleteArgs& args);

struct UpdateArgs {
  std::string study;
  std::vector<std::string> sets;  // Keyword=VALUE
  std::string reason;
  std::string merge_from, from_issuer, merge_into, into_issuer;
};
// `strata update` (update_command.cc): its options on CMD; corrects a study or merges two
// patients. Exit 0 done, 2 bad arguments, 3 no such study / patient, 1 otherwise.
void AddUpdateOptions(CLI::App* cmd, UpdateArgs* args);
int RunUpdate(const Config& config, const UpdateArgs& args);

struct RetentionArgs {
  bool dry_run = false;
  std::string today;  // YYYYMMDD instead of the local date (tests)
};
// Applies lifecycle.retention now; --dry-run lists what would go. Exit 0 done, 2 bad policy.
int RunRetention(const Config& config, const RetentionArgs& args);

// Recreates an empty (or deleted) catalog from the packs and the hot tier.
int RunRebuildCatalog(const Config& config);
// `strata replicate [--status]`: one backup queue pass (tiering/replicator.h) and its state.
int RunReplicate(const Config& config, bool status_only);

int RunPackInspect(const std::string& file, bool json);
int RunPackVerify(const std::string& file);
int RunPackExtract(const std::string& file, const std::string& out_dir);

}  // namespace strata
