#include "archive/delete_tombstone.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "model/uid.h"
#include "util/checksum.h"

namespace strata {

std::string TombstoneKey(const std::string& study_uid, int64_t now_ms, const std::vector<InstanceRecord>& instances) {
  std::string names;
  for (const auto& r : instances) names += r.sop_uid + "\n";
  return std::string(kTombstonePrefix) + study_uid + "/" + std::to_string(now_ms) + "-" +
         Xxh3Hex(names).substr(0, 12) + ".json";
}

Status WriteTombstone(ColdStore* cold, const std::string& key, const std::vector<InstanceRecord>& instances) {
  nlohmann::json doc;
  doc["format"] = "strata-tombstone-1";
  nlohmann::json list = nlohmann::json::array();
  for (const auto& r : instances) {
    STRATA_RETURN_IF_ERROR(ValidateUid(r.sop_uid, "SOPInstanceUID"));
    list.push_back({{"sop_uid", r.sop_uid}, {"study_uid", r.study_uid}, {"received_ms", r.received_ms},
                    {"checksum", r.checksum}});
  }
  doc["instances"] = std::move(list);
  return cold->Put(key, doc.dump());
}

Result<std::map<std::string, int64_t>> ReadTombstones(ColdStore* cold) {
  std::map<std::string, int64_t> out;
  STRATA_ASSIGN_OR_RETURN(auto objects, cold->List(kTombstonePrefix));
  for (const auto& obj : objects) {
    auto bytes = cold->Get(obj.key);
    if (bytes.status().IsNotFound()) continue;  // a refused delete's, removed since the listing
    if (!bytes.ok()) return bytes.status();
    nlohmann::json doc = nlohmann::json::parse(bytes.value(), nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object() || doc.value("format", "") != "strata-tombstone-1" || !doc.contains("instances") ||
        !doc["instances"].is_array())
      return Status::Corruption("tombstone " + obj.key + " does not parse");
    for (const auto& i : doc["instances"]) {
      if (!i.is_object() || !i.contains("sop_uid") || !i["sop_uid"].is_string() || !i.contains("received_ms") ||
          !i["received_ms"].is_number_integer())
        return Status::Corruption("tombstone " + obj.key + " has an entry without sop_uid and received_ms");
      const std::string sop = i["sop_uid"].get<std::string>();
      const int64_t at = i["received_ms"].get<int64_t>();
      auto [it, inserted] = out.emplace(sop, at);
      if (!inserted) it->second = std::max(it->second, at);
    }
  }
  return out;
}

}  // namespace strata
