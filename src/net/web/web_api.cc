// The web page's own JSON API (not DICOMweb; read-only; same auth as DICOMweb):
//   GET /api/stats                 catalog counts, hot/cold instances and bytes, packs,
//                                  metadata cache figures
//   GET /api/studies?limit&offset  objects per study: instances, bytes, hot/cold split, packs
//   GET /api/studies/{s}/tiers     per series: instances, bytes, hot/packed counts, syntaxes,
//                                  pack keys; and the study's packs
//   GET /api/migrations?limit=N    the converter's recent runs (state, node, attempts, error)
//   GET /api/queue?limit=N         studies with instances still on the hot tier
// Everything comes from the catalog; no image is opened.
#include <chrono>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "dicom/transfer_syntax.h"
#include "net/web/http_util.h"
#include "net/web/web_context.h"

namespace strata::web {
namespace {

using nlohmann::json;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

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
  auto s = ctx.archive->catalog()->Stats();
  if (!s.ok()) return SendStatus(res, s.status());
  auto m = ctx.metadata->stats();
  json replica = nullptr;  // the backup queue (tiering/replicator.h), when a replica is configured
  if (ColdStore* r = ctx.archive->replica()) {
    auto q = ctx.archive->catalog()->GetReplicaQueueStats();
    if (!q.ok()) return SendStatus(res, q.status());
    replica = {{"store", r->Describe()},          {"packs_replicated", q->replicated},
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
              {"cold_store", ctx.archive->cold()->Describe()},
              {"replica", replica},
              {"metadata_cache", {{"hits", m.hits}, {"misses", m.misses}, {"entries", m.entries}, {"bytes", m.bytes}}}});
}

void Studies(WebContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Status err;
  Query q;
  q.level = QueryLevel::kStudy;
  q.limit = LimitParam(req, 25, 200, &err);
  auto offset = UintParam(req, "offset");
  if (!err.ok() || !offset.ok()) return SendStatus(res, err.ok() ? offset.status() : err);
  q.offset = offset->value_or(0);
  auto found = ctx.archive->Find(q);
  if (!found.ok()) return SendStatus(res, found.status());
  json out = json::array();
  for (const auto& m : found.value()) {
    auto get = [&](Tag t) {
      auto it = m.find(t);
      return it == m.end() ? std::string() : it->second;
    };
    const std::string study = get(tags::kStudyInstanceUID);
    auto rows = ctx.archive->Locate(study);
    if (!rows.ok()) return SendStatus(res, rows.status());
    TierSums sums;
    for (const auto& r : rows.value()) sums.Add(r);
    json j = sums.ToJson();
    j["study_uid"] = study;
    j["patient_name"] = get(tags::kPatientName);
    j["patient_id"] = get(tags::kPatientID);
    j["study_date"] = get(tags::kStudyDate);
    j["description"] = get(tags::kStudyDescription);
    j["modalities"] = get(tags::kModalitiesInStudy);
    j["series"] = get(tags::kNumberOfStudyRelatedSeries);
    out.push_back(std::move(j));
  }
  Reply(res, out);
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
  auto pr = ctx.archive->catalog()->ListPacks(study);
  if (!pr.ok()) return SendStatus(res, pr.status());
  for (const auto& p : pr.value())
    packs.push_back({{"key", p.pack_key}, {"generation", p.generation}, {"size", p.size}, {"entries", p.entries},
                     {"created_ms", p.created_ms}});
  json out = total.ToJson();
  out["study_uid"] = study;
  out["series"] = std::move(series);
  out["pack_objects"] = std::move(packs);
  Reply(res, out);
}

void Migrations(WebContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Status err;
  const size_t limit = LimitParam(req, 50, 1000, &err);
  if (!err.ok()) return SendStatus(res, err);
  auto list = ctx.archive->catalog()->ListMigrations(limit);
  if (!list.ok()) return SendStatus(res, list.status());
  json out = json::array();
  for (const auto& m : list.value())
    out.push_back({{"study_uid", m.study_uid}, {"state", m.state}, {"node", m.node},
                   {"lease_until_ms", m.lease_until_ms}, {"pack_key", m.pack_key}, {"updated_ms", m.updated_ms},
                   {"error", m.error}, {"attempts", m.attempts}});
  Reply(res, out);
}

void Queue(WebContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Status err;
  MigrationPolicy policy;
  policy.limit = LimitParam(req, 50, 1000, &err);
  if (!err.ok()) return SendStatus(res, err);
  auto list = ctx.archive->catalog()->StudiesToMigrate(policy, NowMs());
  if (!list.ok()) return SendStatus(res, list.status());
  json out = json::array();
  for (const auto& s : list.value())
    out.push_back({{"study_uid", s.study_uid}, {"instances", s.instances}, {"bytes", s.bytes},
                   {"hot_instances", s.hot_instances}, {"last_received_ms", s.last_received_ms},
                   {"study_date", s.study_date}});
  Reply(res, out);
}

}  // namespace

void RegisterApi(httplib::Server& server, WebContext& ctx) {
  using Req = const httplib::Request&;
  using Res = httplib::Response&;
  server.Get("/api/stats", [&ctx](Req q, Res r) { Stats(ctx, q, r); });
  server.Get("/api/studies", [&ctx](Req q, Res r) { Studies(ctx, q, r); });
  server.Get(std::string("/api/studies/") + kUidRe + "/tiers", [&ctx](Req q, Res r) { Tiers(ctx, q, r); });
  server.Get("/api/migrations", [&ctx](Req q, Res r) { Migrations(ctx, q, r); });
  server.Get("/api/queue", [&ctx](Req q, Res r) { Queue(ctx, q, r); });
}

}  // namespace strata::web
