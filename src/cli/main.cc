// strata: the command-line entry point. Each subcommand lives in its own *_command.cc.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#include "cli/serve_command.h"
#include "cli/transfer_commands.h"
#include "config/config.h"
#include "util/log.h"

using namespace strata;

namespace {

// Adds one --flag per setting to APP; the values land in OVERRIDES by dotted name.
void AddSettingFlags(CLI::App* app, std::map<std::string, std::string>* overrides,
                     std::vector<std::unique_ptr<std::string>>* storage) {
  for (const auto& d : AllSettings()) {
    storage->push_back(std::make_unique<std::string>());
    std::string* slot = storage->back().get();
    std::string name = d.name;
    auto* opt = app->add_option(Config::FlagName(d.name), *slot,
                                std::string(d.help) + " [env " + Config::EnvName(d.name) + "]");
    opt->each([overrides, name](const std::string& v) { (*overrides)[name] = v; });
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Strata: a tiered DICOM archive"};
  app.require_subcommand(1);
  std::string config_file;
  std::map<std::string, std::string> overrides;
  std::vector<std::unique_ptr<std::string>> storage;
  // A subcommand that works on an archive: --config plus a flag for every setting.
  auto archive_command = [&](const char* name, const char* help) {
    auto* sub = app.add_subcommand(name, help);
    sub->add_option("--config", config_file, "config file (JSON, or TOML if it ends in .toml)")
        ->envname("STRATA_CONFIG");
    AddSettingFlags(sub, &overrides, &storage);
    return sub;
  };

  auto* serve = archive_command("serve", "run the archive (DICOM, DICOMweb, converter)");
  auto* show = archive_command("config", "print the effective configuration as JSON");

  MigrateArgs margs;
  auto* migrate = archive_command("migrate", "pack hot studies into the cold store now");
  migrate->add_option("--older-than", margs.older_than, "migrate studies idle longer than this (e.g. 0s, 7d)");
  migrate->add_option("--study", margs.study, "migrate just this study");

  VerifyArgs vargs;
  auto* verify = archive_command("verify", "scrub every pack (and with --hot every hot file; with a replica, restore a pack bad in one store from the other); exit 1 on problems");
  verify->add_flag("--hot", vargs.hot, "also verify every hot file's checksum and report files the catalog does not know");
  verify->add_flag("--repair", vargs.repair, "with --hot: re-index or remove those files (older than --hot-reconcile-grace)");

  auto* rebuild = archive_command("rebuild-catalog",
                                  "recreate a lost catalog from the packs and the hot tier (the catalog must be empty)");

  bool replicate_status = false;
  auto* replicate = archive_command("replicate", "copy every verified pack not yet replicated to the replica now, "
                                                 "verify each copy, and show the backup queue");
  replicate->add_flag("--status", replicate_status, "only show the backup queue");

  FindArgs fargs;
  auto* find = archive_command("find", "query the catalog (C-FIND matching) without a server");
  find->add_option("--level", fargs.level, "patient, study, series or instance");
  find->add_option("-k,--key", fargs.keys, "Keyword=value to match (or Keyword to return), repeatable");
  find->add_option("--limit", fargs.limit, "at most this many matches");
  find->add_flag("--json", fargs.json, "JSON output");

  DeleteArgs dargs;
  auto* del = archive_command("delete", "delete a study, series or instance (hot files at once, packs compacted later)");
  del->add_option("--study", dargs.study, "Study Instance UID")->required();
  del->add_option("--series", dargs.series, "only this series");
  del->add_option("--sop", dargs.sop, "only this instance");

  UpdateArgs uargs;
  auto* upd = archive_command("update", "correct patient/study attributes of a study, or merge two patients");
  AddUpdateOptions(upd, &uargs);

  RetentionArgs rargs;
  auto* ret = archive_command("retention", "apply lifecycle.retention now: delete studies past their rule");
  ret->add_flag("--dry-run", rargs.dry_run, "only list the studies that would be deleted");
  ret->add_option("--today", rargs.today, "evaluate as of this date (YYYYMMDD) instead of today");

  SendArgs send_args;
  auto* send = AddSendCommand(app, &send_args);
  GetArgs get_args;
  auto* get = AddGetCommand(app, &get_args);

  auto* pack = app.add_subcommand("pack", "work on a pack file alone (no archive needed)");
  pack->require_subcommand(1);
  std::string pack_file, out_dir;
  bool pack_json = false;
  auto* inspect = pack->add_subcommand("inspect", "list a pack's study, entries and sizes");
  inspect->add_option("FILE", pack_file, "pack file")->required();
  inspect->add_flag("--json", pack_json, "JSON output");
  auto* pverify = pack->add_subcommand("verify", "check every entry's checksums");
  pverify->add_option("FILE", pack_file, "pack file")->required();
  auto* extract = pack->add_subcommand("extract", "write the entries as DICOM files");
  extract->add_option("FILE", pack_file, "pack file")->required();
  extract->add_option("--out", out_dir, "output directory")->required();

  CLI11_PARSE(app, argc, argv);

  if (send->parsed()) return RunSend(send_args);
  if (get->parsed()) return RunGet(get_args);

  if (inspect->parsed()) return RunPackInspect(pack_file, pack_json);
  if (pverify->parsed()) return RunPackVerify(pack_file);
  if (extract->parsed()) return RunPackExtract(pack_file, out_dir);

  auto config = Config::Load(config_file, overrides);
  if (!config.ok()) {
    std::cerr << "strata: " << config.status().ToString() << "\n";
    return 2;
  }
  InitLogging(config->Get("log_level"));
  if (serve->parsed()) return RunServe(config.value());
  if (migrate->parsed()) return RunMigrate(config.value(), margs);
  if (verify->parsed()) return RunVerify(config.value(), vargs);
  if (find->parsed()) return RunFind(config.value(), fargs);
  if (del->parsed()) return RunDelete(config.value(), dargs);
  if (ret->parsed()) return RunRetention(config.value(), rargs);
  if (upd->parsed()) return RunUpdate(config.value(), uargs);
  if (rebuild->parsed()) return RunRebuildCatalog(config.value());
  if (replicate->parsed()) return RunReplicate(config.value(), replicate_status);
  if (show->parsed()) {
    std::cout << config->ToJson().dump(2) << "\n";
    return 0;
  }
  return 0;
}
