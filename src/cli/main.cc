// strata: the command-line entry point. Each subcommand lives in its own *_command.cc.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/serve_command.h"
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

  auto* serve = app.add_subcommand("serve", "run the archive (DICOM, DICOMweb, converter)");
  serve->add_option("--config", config_file, "config file (JSON, or TOML if it ends in .toml) [env STRATA_CONFIG]")
      ->envname("STRATA_CONFIG");
  AddSettingFlags(serve, &overrides, &storage);

  auto* show = app.add_subcommand("config", "print the effective configuration as JSON");
  show->add_option("--config", config_file, "config file")->envname("STRATA_CONFIG");
  std::vector<std::unique_ptr<std::string>> storage2;
  AddSettingFlags(show, &overrides, &storage2);

  CLI11_PARSE(app, argc, argv);

  auto config = Config::Load(config_file, overrides);
  if (!config.ok()) {
    std::cerr << "strata: " << config.status().ToString() << "\n";
    return 2;
  }
  InitLogging(config->Get("log_level"));
  if (serve->parsed()) return RunServe(config.value());
  if (show->parsed()) {
    std::cout << config->ToJson().dump(2) << "\n";
    return 0;
  }
  return 0;
}
