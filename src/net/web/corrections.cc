// Corrections over HTTP (issue 15; archive/correction.h), write role, through the Router
// (identity, role, audit record: action correct / merge, fsync'ed like a store):
//   PUT  /api/studies/{s}                 {"PatientName": "DOE^JANE", "AccessionNumber": "A1",
//                                          ..., "reason": "wrong patient"} (keyword or
//                                          ggggeeee -> new value; null empties it)
//   POST /api/patients/merge              {"from": {"PatientID": "A", "IssuerOfPatientID": ""},
//                                          "to": {"PatientID": "B"}, "reason": "..."}
//   GET  /api/studies/{s}/corrections     the study's records (read role)
// 200 with the records written, 400 for a bad body, an unknown keyword or a value its VR
// refuses, 404 for a missing study or patient, 503 when the catalog is unreachable.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "archive/correction.h"
#include "net/web/http_util.h"
#include "net/web/web_context.h"

namespace strata::web {
namespace {

using nlohmann::json;

std::string Requester(const httplib::Request& req) {
  const Identity& id = CurrentIdentity();  // authenticated by the router
  return (id.name.empty() ? std::string("anonymous") : id.scheme + ":" + id.name) + "@" + req.remote_addr;
}

json RecordsJson(const std::vector<CorrectionRecord>& records) {
  json out = json::array();
  for (const auto& r : records) {
    char tag[9];
    std::snprintf(tag, sizeof(tag), "%08X", r.tag);
    out.push_back({{"study", r.study_uid}, {"attribute", CorrectableKeyword(r.tag)}, {"tag", tag},
                   {"old", r.old_value}, {"new", r.new_value}, {"who", r.who}, {"reason", r.reason},
                   {"kind", r.kind}, {"change", r.change_id}, {"at_ms", r.at_ms}});
  }
  return out;
}

void Reply(httplib::Response& res, const json& j) {
  res.set_header("Cache-Control", "no-store");
  res.set_content(j.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

Result<json> ParseBody(const httplib::Request& req) {
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) return Status::InvalidArgument("the body must be a JSON object");
  return body;
}

// A string member (null = "", absent = FALLBACK); kInvalidArgument for another type.
Result<std::string> StringMember(const json& o, const char* name, const std::string& fallback = "") {
  auto it = o.find(name);
  if (it == o.end()) return fallback;
  if (it->is_null()) return std::string();
  if (!it->is_string()) return Status::InvalidArgument(std::string("'") + name + "' must be a string");
  return it->get<std::string>();
}

void HandleCorrect(WebContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string study = req.matches[1].str();
  CurrentAudit().action = "correct";
  CurrentAudit().study = study;
  if (Status s = CheckUid(study, "StudyInstanceUID"); !s.ok()) return SendStatus(res, s);
  auto body = ParseBody(req);
  if (!body.ok()) return SendStatus(res, body.status());
  std::vector<std::pair<std::string, std::string>> changes;
  std::string reason;
  for (const auto& [key, value] : body->items()) {
    if (!value.is_string() && !value.is_null())
      return SendError(res, 400, "'" + key + "' must be a string (or null to empty it)");
    std::string v = value.is_null() ? std::string() : value.get<std::string>();
    if (key == "reason")
      reason = std::move(v);
    else
      changes.emplace_back(key, std::move(v));
  }
  auto records = ctx.archive->Correct(study, changes, Requester(req), reason);
  if (!records.ok()) return SendStatus(res, records.status());
  CurrentAudit().count = records->size();
  CurrentAudit().detail = std::to_string(records->size()) + " attribute values changed";
  Reply(res, {{"study", study}, {"corrections", RecordsJson(records.value())}});
}

void HandleMerge(WebContext& ctx, const httplib::Request& req, httplib::Response& res) {
  CurrentAudit().action = "merge";
  auto body = ParseBody(req);
  if (!body.ok()) return SendStatus(res, body.status());
  struct Patient {
    std::string id, issuer;
  };
  Patient from, to;
  for (auto [name, out] : {std::pair{"from", &from}, std::pair{"to", &to}}) {
    auto it = body->find(name);
    if (it == body->end() || !it->is_object())
      return SendError(res, 400, std::string("'") + name + "' must be an object {\"PatientID\": ..., \"IssuerOfPatientID\": ...}");
    auto id = StringMember(*it, "PatientID");
    auto issuer = StringMember(*it, "IssuerOfPatientID");
    if (!id.ok()) return SendStatus(res, id.status());
    if (!issuer.ok()) return SendStatus(res, issuer.status());
    out->id = id.value();
    out->issuer = issuer.value();
  }
  auto reason = StringMember(body.value(), "reason");
  if (!reason.ok()) return SendStatus(res, reason.status());
  CurrentAudit().detail = "patient '" + from.id + "' merged into '" + to.id + "'";
  auto records = ctx.archive->MergePatients(from.id, from.issuer, to.id, to.issuer, Requester(req), reason.value());
  if (!records.ok()) return SendStatus(res, records.status());
  json studies = json::array();
  for (const auto& r : records.value())
    if (studies.empty() || studies.back() != r.study_uid) studies.push_back(r.study_uid);
  CurrentAudit().count = studies.size();
  Reply(res, {{"from", {{"PatientID", from.id}, {"IssuerOfPatientID", from.issuer}}},
              {"to", {{"PatientID", to.id}, {"IssuerOfPatientID", to.issuer}}},
              {"studies", studies},
              {"corrections", RecordsJson(records.value())}});
}

void HandleList(WebContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string study = req.matches[1].str();
  if (Status s = CheckUid(study, "StudyInstanceUID"); !s.ok()) return SendStatus(res, s);
  auto records = ctx.archive->ListCorrections(study);
  if (!records.ok()) return SendStatus(res, records.status());
  Reply(res, {{"study", study}, {"corrections", RecordsJson(records.value())}});
}

}  // namespace

void RegisterCorrections(Router& server, WebContext& ctx) {
  server.Put(std::string("/api/studies/") + kUidRe,
             [&ctx](const httplib::Request& q, httplib::Response& r) { HandleCorrect(ctx, q, r); });
  server.Post("/api/patients/merge", [&ctx](const httplib::Request& q, httplib::Response& r) { HandleMerge(ctx, q, r); });
  server.Get(std::string("/api/studies/") + kUidRe + "/corrections",
             [&ctx](const httplib::Request& q, httplib::Response& r) { HandleList(ctx, q, r); });
}

}  // namespace strata::web
