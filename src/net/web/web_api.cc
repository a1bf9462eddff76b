// The web page's own JSON API (not DICOMweb; read-only; same auth as DICOMweb):
//   GET /api/stats                 catalog counts, hot/cold instances and bytes, packs,
//                                  metadata cache figures
//   GET /api/studies?limit&offset&name&id&acc&mod&date
//                                  one page of studies, newest study date first (the number of
//                                  matches in X-Total-Count):
//                                  instances, bytes, hot/cold split, packs and their size,
//                                  the latest migration state and a failure in plain words
//   GET /api/studies/{s}/tiers     per series: instances, bytes, hot/packed counts, syntaxes,
//                                  pack keys; and the study's packs
//   GET /api/migrations?limit=N    the converter's recent runs (state, node, attempts, error,
//                                  the error explained), with patient, date, description
//   GET /api/queue?limit=N         studies with instances still on the hot tier, labelled the same
// Everything comes from the catalog; no image is opened. /api/stats also names the site's
// time zone (web.time_zone), in which the page writes every time.
#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "dicom/transfer_syntax.h"
#include "net/web/http_util.h"
#include "net/web/migration_errors.h"
#include "net/web/web_context.h"
#include "util/clock.h"

namespace strata::web {
namespace {

using nlohmann::json;

void Reply(httplib::Response& res, const json& j) {
  res.set_header("Cache-Control", "no-store");
  res.set_content(j.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

size_t LimitParam(const httplib::Request& req, size_t def, size_t max, Status* error) {
  auto v = UintParam(req, "limit");
  if (!v.ok()) {
    *error = v.status();
    return 0;
  }
  return v->has_value() ? std::min<size_t>(**v, max) : def;
}

// Instance counts and bytes of a list of instance rows, by tier.
struct TierSums {
  uint64_t instances = 0, bytes = 0, hot = 0, cold = 0, hot_bytes = 0, cold_bytes = 0;
  std::set<std::string> packs;
  std::map<std::string, uint64_t> syntaxes;
  void Add(const InstanceRecord& r) {
    ++instances;
    bytes += r.size;
    if (r.location.tier == Location::Tier::kCold) {
      ++cold;
      cold_bytes += r.location.length;
      packs.insert(r.location.pack_key);
    } else {
      ++hot;
      hot_bytes += r.size;
    }
    ++syntaxes[StoredSyntax(r)];
  }
  json ToJson() const {
    json syn = json::array();
    for (const auto& [uid, n] : syntaxes)
      syn.push_back({{"uid", uid}, {"name", SyntaxName(uid)}, {"instances", n}, {"compressed", !IsUncompressedSyntax(uid)}});
    const char* tier = cold == 0 ? "hot" : hot == 0 ? "packed" : "mixed";
    return {{"instances", instances}, {"bytes", bytes},      {"hot_instances", hot}, {"cold_instances", cold},
            {"hot_bytes", hot_bytes}, {"cold_bytes", cold_bytes}, {"tier", tier},     {"packs", packs},
            {"syntaxes", syn}};
  }
};

void Stats(WebContext& ctx, const httplib::Request&, httplib::Response& res) {
  auto s = ctx.archive->Stats();
  if (!s.ok()) return SendStatus(res, s.status());
  auto m = ctx.metadata->stats();
  json replica = nullptr;  // the backup queue (tiering/replicator.h), when a replica is configured
  if (const std::string r = ctx.archive->DescribeReplica(); !r.empty()) {
    auto q = ctx.archive->GetReplicaQueueStats();
    if (!q.ok()) return SendStatus(res, q.status());
    replica = {{"store", r},          {"packs_replicated", q->replicated},
               {"packs_pending", q->pending},     {"packs_failing", q->failing},
               {"bytes_replicated", q->replicated_bytes}, {"bytes_pending", q->pending_bytes},
               {"studies_with_packs", q->studies}, {"studies_replicated", q->studies_replicated},
               {"last_error", q->last_error}};
  }
  Reply(res, {{"patients", s->patients},
              {"studies", s->studies},
              {"series", s->series},
              {"instances", s->instances},
              {"hot_instances", s->hot_instances},
              {"hot_bytes", s->hot_bytes},
              {"cold_instances", s->cold_instances},
              {"cold_bytes", s->cold_bytes},
              {"packs", s->packs},
              {"pack_bytes", s->pack_bytes},
              {"cold_store", ctx.archive->DescribeCold()},
              {"time_zone", ctx.time_zone},
              {"replica", replica},
              {"metadata_cache", {{"hits", m.hits}, {"misses", m.misses}, {"entries", m.entries}, {"bytes", m.bytes}}}});
}

std::string Get(const AttributeValues& m, Tag t) {
  auto it = m.find(t);
  return it == m.end() ? std::string() : it->second;
}

// The latest ledger entry of each study among the recent migrations (one query per request).
Result<std::map<std::string, MigrationRecord>> LatestMigrations(WebContext& ctx, size_t limit) {
  STRATA_ASSIGN_OR_RETURN(auto list, ctx.archive->ListMigrations(limit));
  std::map<std::string, MigrationRecord> out;
  for (auto& m : list) out.emplace(m.study_uid, std::move(m));  // newest first: the first one wins
  return out;
}

json ProblemJson(const MigrationRecord& m) {
  if (m.state != "failed" || m.error.empty()) return nullptr;
  const MigrationProblem p = ExplainMigrationError(m.error);
  return {{"summary", p.summary}, {"action", p.action}, {"detail", p.detail}, {"when_ms", m.updated_ms},
          {"attempts", m.attempts}};
}

// Patient, date and description of a study (empty strings when the catalog has no such study).
json StudyLabel(WebContext& ctx, const std::string& study_uid) {
  Query q;
  q.level = QueryLevel::kStudy;
  q.keys.emplace_back(tags::kStudyInstanceUID, study_uid);
  q.limit = 1;
  json j = {{"patient_name", ""}, {"patient_id", ""}, {"study_date", ""}, {"study_time", ""}, {"description", ""}};
  auto found = ctx.archive->Find(q);
  if (found.ok() && !found->empty()) {
    const auto& m = found->front();
    j = {{"patient_name", Get(m, tags::kPatientName)}, {"patient_id", Get(m, tags::kPatientID)},
         {"study_date", Get(m, tags::kStudyDate)},     {"study_time", Get(m, tags::kStudyTime)},
         {"description", Get(m, tags::kStudyDescription)}};
  }
  return j;
}

// The study list's filters, as QIDO-RS matching keys: name (substring unless it has
// wildcards), id, acc, mod, date (YYYYMMDD, or a range YYYYMMDD-YYYYMMDD with either end open).
Status FilterKeys(const httplib::Request& req, Query* q) {
  auto param = [&](const char* n) { return req.has_param(n) ? req.get_param_value(n) : std::string(); };
  if (std::string v = param("name"); !v.empty())
    q->keys.emplace_back(tags::kPatientName, v.find_first_of("*?") == std::string::npos ? "*" + v + "*" : v);
  if (std::string v = param("id"); !v.empty()) q->keys.emplace_back(tags::kPatientID, v);
  if (std::string v = param("acc"); !v.empty()) q->keys.emplace_back(tags::kAccessionNumber, v);
  if (std::string v = param("mod"); !v.empty()) q->keys.emplace_back(tags::kModalitiesInStudy, v);
  if (std::string v = param("date"); !v.empty() && v != "-") {
    const size_t dash = v.find('-');
    auto date_ok = [](const std::string& d) {
      return d.empty() || (d.size() == 8 && std::all_of(d.begin(), d.end(), ::isdigit));
    };
    const std::string a = v.substr(0, dash), b = dash == std::string::npos ? "" : v.substr(dash + 1);
    if (!date_ok(a) || !date_ok(b) || (dash == std::string::npos && a.empty()))
      return Status::InvalidArgument("date must be YYYYMMDD or YYYYMMDD-YYYYMMDD, not '" + v.substr(0, 40) + "'");
    q->keys.emplace_back(tags::kStudyDate, v);
  }
  return Status::OK();
}

// The study list: one page of the matching studies, newest first, ordered and cut by the
// catalog (Query::newest_first, LIMIT/OFFSET), its total counted there too; each with its tier
// split, pack size and migration state.
void Studies(WebContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Status err;
  Query q;
  q.level = QueryLevel::kStudy;
  const size_t limit = LimitParam(req, 25, 200, &err);
  auto offset = UintParam(req, "offset");
  if (!err.ok() || !offset.ok()) return SendStatus(res, err.ok() ? offset.status() : err);
  if (Status f = FilterKeys(req, &q); !f.ok()) return SendStatus(res, f);
  q.newest_first = true;
  q.limit = limit;
  q.offset = offset->value_or(0);
  auto total = ctx.archive->Count(q);
  if (!total.ok()) return SendStatus(res, total.status());
  // limit=0 asks for the total alone (Query's limit 0 would mean "all").
  auto found = limit == 0 ? Result<std::vector<AttributeValues>>(std::vector<AttributeValues>{}) : ctx.archive->Find(q);
  if (!found.ok()) return SendStatus(res, found.status());
  auto ledger = LatestMigrations(ctx, 1000);
  if (!ledger.ok()) return SendStatus(res, ledger.status());
  json page = json::array();
  for (const AttributeValues& m : found.value()) {
    const std::string study = Get(m, tags::kStudyInstanceUID);
    auto rows = ctx.archive->Locate(study);
    if (!rows.ok()) return SendStatus(res, rows.status());
    TierSums sums;
    for (const auto& r : rows.value()) sums.Add(r);
    auto packs = ctx.archive->ListPacks(study);
    if (!packs.ok()) return SendStatus(res, packs.status());
    uint64_t pack_bytes = 0;
    for (const auto& p : packs.value()) pack_bytes += p.size;
    json j = sums.ToJson();
    j["study_uid"] = study;
    j["patient_name"] = Get(m, tags::kPatientName);
    j["patient_id"] = Get(m, tags::kPatientID);
    j["study_date"] = Get(m, tags::kStudyDate);
    j["study_time"] = Get(m, tags::kStudyTime);
    j["accession"] = Get(m, tags::kAccessionNumber);
    j["description"] = Get(m, tags::kStudyDescription);
    j["modalities"] = Get(m, tags::kModalitiesInStudy);
    j["series"] = Get(m, tags::kNumberOfStudyRelatedSeries);
    j["pack_bytes"] = pack_bytes;  // the packs' compressed size, beside "bytes" (as received)
    auto led = ledger->find(study);
    j["migration"] = led == ledger->end() ? json(nullptr) : json(led->second.state);
    j["problem"] = led == ledger->end() ? json(nullptr) : ProblemJson(led->second);
    page.push_back(std::move(j));
  }
  res.set_header("X-Total-Count", std::to_string(total.value()));  // for the pager; the body stays a list
  Reply(res, page);
}

void Tiers(WebContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string study = req.matches[1];
  Status s = CheckUid(study, "StudyInstanceUID");
  if (!s.ok()) return SendStatus(res, s);
  auto rows = ctx.archive->Locate(study);
  if (!rows.ok()) return SendStatus(res, rows.status());
  if (rows->empty()) return SendError(res, 404, "no such study");
  std::vector<std::string> order;
  std::map<std::string, TierSums> by_series;
  std::map<std::string, const InstanceRecord*> first_of;
  TierSums total;
  for (const auto& r : rows.value()) {
    if (!by_series.count(r.series_uid)) {
      order.push_back(r.series_uid);
      first_of[r.series_uid] = &r;
    }
    by_series[r.series_uid].Add(r);
    total.Add(r);
  }
  json series = json::array();
  for (const auto& uid : order) {
    const InstanceRecord& f = *first_of[uid];
    json j = by_series[uid].ToJson();
    j["series_uid"] = uid;
    j["modality"] = f.modality;
    j["series_number"] = f.series_number;
    j["description"] = f.series_description;
    series.push_back(std::move(j));
  }
  json packs = json::array();
  auto pr = ctx.archive->ListPacks(study);
  if (!pr.ok()) return SendStatus(res, pr.status());
  for (const auto& p : pr.value())
    packs.push_back({{"key", p.pack_key}, {"generation", p.generation}, {"size", p.size}, {"entries", p.entries},
                     {"created_ms", p.created_ms}});
  auto ledger = LatestMigrations(ctx, 1000);
  if (!ledger.ok()) return SendStatus(res, ledger.status());
  auto led = ledger->find(study);
  json out = total.ToJson();
  out["study_uid"] = study;
  out["migration"] = led == ledger->end() ? json(nullptr) : json(led->second.state);
  out["problem"] = led == ledger->end() ? json(nullptr) : ProblemJson(led->second);
  out["series"] = std::move(series);
  out["pack_objects"] = std::move(packs);
  Reply(res, out);
}

void Migrations(WebContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Status err;
  const size_t limit = LimitParam(req, 50, 1000, &err);
  if (!err.ok()) return SendStatus(res, err);
  auto list = ctx.archive->ListMigrations(limit);
  if (!list.ok()) return SendStatus(res, list.status());
  json out = json::array();
  for (const auto& m : list.value()) {
    json j = {{"study_uid", m.study_uid}, {"state", m.state}, {"node", m.node},
              {"lease_until_ms", m.lease_until_ms}, {"pack_key", m.pack_key}, {"updated_ms", m.updated_ms},
              {"error", m.error}, {"attempts", m.attempts}, {"problem", ProblemJson(m)}};
    j.update(StudyLabel(ctx, m.study_uid));
    out.push_back(std::move(j));
  }
  Reply(res, out);
}

void Queue(WebContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Status err;
  MigrationPolicy policy;
  policy.limit = LimitParam(req, 50, 1000, &err);
  if (!err.ok()) return SendStatus(res, err);
  auto list = ctx.archive->StudiesToMigrate(policy, NowMs());
  if (!list.ok()) return SendStatus(res, list.status());
  auto ledger = LatestMigrations(ctx, 1000);
  if (!ledger.ok()) return SendStatus(res, ledger.status());
  json out = json::array();
  for (const auto& s : list.value()) {
    json j = {{"study_uid", s.study_uid}, {"instances", s.instances}, {"bytes", s.bytes},
              {"hot_instances", s.hot_instances}, {"last_received_ms", s.last_received_ms}};
    j.update(StudyLabel(ctx, s.study_uid));
    if (j["study_date"] == "") j["study_date"] = s.study_date;
    auto led = ledger->find(s.study_uid);
    j["migration"] = led == ledger->end() ? json(nullptr) : json(led->second.state);
    j["problem"] = led == ledger->end() ? json(nullptr) : ProblemJson(led->second);
    out.push_back(std::move(j));
  }
  Reply(res, out);
}

}  // namespace

void RegisterApi(Router& server, WebContext& ctx) {
  using Req = const httplib::Request&;
  using Res = httplib::Response&;
  server.Get("/api/stats", [&ctx](Req q, Res r) { Stats(ctx, q, r); });
  server.Get("/api/studies", [&ctx](Req q, Res r) { Studies(ctx, q, r); });
  server.Get(std::string("/api/studies/") + kUidRe + "/tiers", [&ctx](Req q, Res r) { Tiers(ctx, q, r); });
  server.Get("/api/migrations", [&ctx](Req q, Res r) { Migrations(ctx, q, r); });
  server.Get("/api/queue", [&ctx](Req q, Res r) { Queue(ctx, q, r); });
}

}  // namespace strata::web
