#include "archive/correction_log.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <tuple>

#include <nlohmann/json.hpp>

#include "archive/correction.h"
#include "model/uid.h"
#include "util/checksum.h"
#include "util/clock.h"

namespace strata {
namespace {

constexpr char kFormat[] = "strata-correction-1";

std::string TagText(uint32_t tag) {
  char buf[9];
  std::snprintf(buf, sizeof(buf), "%08X", tag);
  return buf;
}

Status Bad(const std::string& key, const std::string& why) {
  return Status::Corruption("correction record " + key + " " + why);
}

bool IsString(const nlohmann::json& doc, const char* name) { return doc.contains(name) && doc[name].is_string(); }

}  // namespace

CorrectionChange NewCorrectionChange(std::string kind) {
  static std::mutex mu;
  static int64_t last_ms = 0, seq = 0;
  CorrectionChange c;
  c.kind = std::move(kind);
  std::lock_guard<std::mutex> lock(mu);
  last_ms = std::max(last_ms, NowMs());  // a clock stepped back does not reorder our changes
  c.at_ms = last_ms;
  c.seq = ++seq;
  return c;
}

std::string CorrectionRecordKey(const CorrectionChange& change) {
  const std::string folder = change.kind == "merge" ? "patients" : change.study_uid;
  return std::string(kCorrectionLogPrefix) + folder + "/" + std::to_string(change.at_ms) + "-" +
         Xxh3Hex(SerializeCorrectionChange(change)).substr(0, 12) + ".json";
}

std::string SerializeCorrectionChange(const CorrectionChange& c) {
  nlohmann::ordered_json doc;
  doc["format"] = kFormat;
  doc["kind"] = c.kind;
  doc["at_ms"] = c.at_ms;
  doc["seq"] = c.seq;
  doc["who"] = c.who;
  doc["reason"] = c.reason;
  if (c.kind == "merge") {
    doc["from"] = {{"patient_id", c.from_id}, {"issuer", c.from_issuer}};
    doc["into"] = {{"patient_id", c.to_id}, {"issuer", c.to_issuer}};
  } else {
    doc["study_uid"] = c.study_uid;
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& [tag, value] : c.changes) list.push_back({{"tag", TagText(tag)}, {"value", value}});
    doc["changes"] = std::move(list);
  }
  // Invalid UTF-8 cannot reach here (values are validated), but a record must always be written.
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<CorrectionChange> ParseCorrectionChange(const std::string& bytes, const std::string& key) {
  nlohmann::json doc = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || doc.value("format", "") != kFormat) return Bad(key, "does not parse");
  if (!IsString(doc, "kind") || !doc.contains("at_ms") || !doc["at_ms"].is_number_integer() || !IsString(doc, "who") ||
      !IsString(doc, "reason") || (doc.contains("seq") && !doc["seq"].is_number_integer()))
    return Bad(key, "lacks kind, at_ms, who or reason");
  CorrectionChange c;
  c.kind = doc["kind"].get<std::string>();
  c.at_ms = doc["at_ms"].get<int64_t>();
  c.seq = doc.value("seq", int64_t{0});
  c.who = doc["who"].get<std::string>();
  c.reason = doc["reason"].get<std::string>();
  if (c.kind == "merge") {
    for (const char* side : {"from", "into"}) {
      if (!doc.contains(side) || !doc[side].is_object() || !IsString(doc[side], "patient_id") ||
          !IsString(doc[side], "issuer"))
        return Bad(key, std::string("has no patient_id and issuer in '") + side + "'");
    }
    c.from_id = doc["from"]["patient_id"].get<std::string>();
    c.from_issuer = doc["from"]["issuer"].get<std::string>();
    c.to_id = doc["into"]["patient_id"].get<std::string>();
    c.to_issuer = doc["into"]["issuer"].get<std::string>();
    if (c.from_id.empty() || c.to_id.empty()) return Bad(key, "names an empty PatientID");
    return c;
  }
  if (c.kind != "correct") return Bad(key, "has an unknown kind '" + c.kind + "'");
  if (!IsString(doc, "study_uid") || !ValidateUid(doc["study_uid"].get<std::string>(), "StudyInstanceUID").ok())
    return Bad(key, "names no valid StudyInstanceUID");
  c.study_uid = doc["study_uid"].get<std::string>();
  if (!doc.contains("changes") || !doc["changes"].is_array() || doc["changes"].empty())
    return Bad(key, "lists no change");
  for (const auto& ch : doc["changes"]) {
    if (!ch.is_object() || !IsString(ch, "tag") || !IsString(ch, "value")) return Bad(key, "has a change without tag and value");
    const CorrectableAttribute* a = FindCorrectable(ch["tag"].get<std::string>());
    if (a == nullptr) return Bad(key, "names an attribute that is not correctable: " + ch["tag"].get<std::string>());
    c.changes.emplace_back(a->tag, ch["value"].get<std::string>());
  }
  return c;
}

Status WriteCorrectionRecord(ColdStore* cold, const std::string& key, const CorrectionChange& change) {
  if (change.kind == "correct") STRATA_RETURN_IF_ERROR(ValidateUid(change.study_uid, "StudyInstanceUID"));
  return cold->Put(key, SerializeCorrectionChange(change));
}

Result<std::vector<CorrectionChange>> ReadCorrectionRecords(ColdStore* cold) {
  STRATA_ASSIGN_OR_RETURN(auto objects, cold->List(kCorrectionLogPrefix));
  std::vector<std::pair<std::string, CorrectionChange>> found;
  for (const auto& obj : objects) {
    auto bytes = cold->Get(obj.key);
    if (bytes.status().IsNotFound()) continue;  // a refused change's, removed since the listing
    if (!bytes.ok()) return bytes.status();
    STRATA_ASSIGN_OR_RETURN(CorrectionChange c, ParseCorrectionChange(bytes.value(), obj.key));
    found.emplace_back(obj.key, std::move(c));
  }
  std::sort(found.begin(), found.end(), [](const auto& x, const auto& y) {
    return std::tie(x.second.at_ms, x.second.seq, x.first) < std::tie(y.second.at_ms, y.second.seq, y.first);
  });
  std::vector<CorrectionChange> out;
  out.reserve(found.size());
  for (auto& [key, c] : found) out.push_back(std::move(c));
  return out;
}

}  // namespace strata
