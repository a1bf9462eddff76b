#include <iostream>

#include <nlohmann/json.hpp>

#include "archive/archive.h"
#include "cli/commands.h"
#include "cli/serve_command.h"

namespace strata {

int RunFind(const Config& config, const FindArgs& args) {
  Query q;
  if (args.level == "patient") q.level = QueryLevel::kPatient;
  else if (args.level == "study") q.level = QueryLevel::kStudy;
  else if (args.level == "series") q.level = QueryLevel::kSeries;
  else if (args.level == "instance" || args.level == "image") q.level = QueryLevel::kInstance;
  else {
    std::cerr << "strata find: --level must be patient, study, series or instance\n";
    return 2;
  }
  for (const auto& kv : args.keys) {
    size_t eq = kv.find('=');
    const AttributeDef* def = FindAttributeByName(kv.substr(0, eq));
    if (!def) {
      std::cerr << "strata find: unknown attribute '" << kv.substr(0, eq) << "'\n";
      return 2;
    }
    q.keys.emplace_back(def->tag, eq == std::string::npos ? "" : kv.substr(eq + 1));
  }
  q.limit = args.limit;
  auto aopts = ArchiveOptionsFromConfig(config);
  if (!aopts.ok()) {
    std::cerr << "strata find: " << aopts.status().ToString() << "\n";
    return 2;
  }
  auto archive = Archive::Open(aopts.value());
  if (!archive.ok()) {
    std::cerr << "strata find: " << archive.status().ToString() << "\n";
    return 1;
  }
  auto rows = (*archive)->Find(q);
  if (!rows.ok()) {
    std::cerr << "strata find: " << rows.status().ToString() << "\n";
    return rows.status().code() == Status::Code::kInvalidArgument ? 2 : 1;
  }
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : rows.value()) {
      nlohmann::json o;
      for (const auto& [tag, v] : r) o[FindAttribute(tag)->keyword] = v;
      out.push_back(o);
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  for (const auto& r : rows.value()) {
    bool first = true;
    for (const auto& [tag, v] : r) {
      const AttributeDef* d = FindAttribute(tag);
      if (d->level != q.level && d->tag != tags::kPatientID && d->tag != tags::kPatientName) continue;
      std::cout << (first ? "" : "  ") << d->keyword << "=" << v;
      first = false;
    }
    std::cout << "\n";
  }
  std::cout.flush();
  std::cerr << rows->size() << " match(es)\n";
  return 0;
}

}  // namespace strata
