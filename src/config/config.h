// Config: every setting of `strata serve` and the tools, with one name each. A setting comes
// from (lowest to highest precedence) its default, the config file (JSON, or TOML when the
// file ends in .toml), the environment (STRATA_<NAME> with dots as underscores, upper case:
// dimse.max_pdu -> STRATA_DIMSE_MAX_PDU) and the command line (--name or --dimse-max-pdu).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace strata {

struct SettingDef {
  const char* name;      // dotted key, e.g. "dimse.port"
  const char* def;       // default as text ("" = empty); "${data}" expands to the data dir
  const char* help;
  enum Type { kString, kInt, kBool, kList, kMap } type;
};

const std::vector<SettingDef>& AllSettings();

class Config {
 public:
  // Loads defaults, then FILE (if not empty), then the environment, then OVERRIDES (already
  // parsed command-line values, by dotted name).
  static Result<Config> Load(const std::string& file, const std::map<std::string, std::string>& overrides);

  std::string Get(const std::string& name) const;
  Result<int64_t> GetInt(const std::string& name) const;
  bool GetBool(const std::string& name) const;
  // Lists: JSON arrays in the file; comma-separated in env/flags.
  std::vector<std::string> GetList(const std::string& name) const;
  // Maps: JSON objects in the file; "KEY=VALUE,KEY=VALUE" in env/flags.
  std::map<std::string, std::string> GetMap(const std::string& name) const;
  // The effective configuration, secrets masked, for `strata config` and the log.
  nlohmann::json ToJson(bool mask_secrets = true) const;

  static std::string EnvName(const std::string& name);
  static std::string FlagName(const std::string& name);

 private:
  std::map<std::string, nlohmann::json> values_;
};

}  // namespace strata
