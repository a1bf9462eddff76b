// GET /api/lifecycle?limit=N&offset=M (read role): the archive's lifecycle changes, newest
// first: deletes, rejections, retention deletions, rejected instances deleted after their
// grace period (and corrections / merges, which record into the same catalog table), with
// who, what (patient, study date, description; UIDs beside them), when (the catalog's clock,
// unix ms: the page writes it in the site's time zone) and the old and new values. The
// number of events in X-Total-Count (the pager), as /api/studies does. Every node shares the
// catalog, so every node lists the same history. 400 for a bad limit/offset, 503 when the
// catalog is unreachable.
#include <nlohmann/json.hpp>

#include "net/web/http_util.h"
#include "net/web/web_context.h"

namespace strata::web {
namespace {

using nlohmann::json;

// A stored JSON object as JSON (an unreadable one as its text: never a 500 for old rows).
json Values(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_discarded() ? json(text) : j;
}

void Lifecycle(WebContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto limit = UintParam(req, "limit");
  auto offset = UintParam(req, "offset");
  if (!limit.ok()) return SendStatus(res, limit.status());
  if (!offset.ok()) return SendStatus(res, offset.status());
  const uint64_t n = limit->value_or(50);
  if (n == 0 || n > 1000) return SendError(res, 400, "limit must be 1..1000");
  auto page = ctx.archive->ListLifecycleEvents(static_cast<size_t>(n), offset->value_or(0));
  if (!page.ok()) return SendStatus(res, page.status());
  json out = json::array();
  for (const auto& e : page->events) {
    out.push_back({{"id", e.id},
                   {"at_ms", e.at_ms},
                   {"action", e.action},
                   {"who", e.who},
                   {"reason", e.reason},
                   {"study_uid", e.study_uid},
                   {"series_uid", e.series_uid},
                   {"sop_uid", e.sop_uid},
                   {"patient_name", e.patient_name},
                   {"patient_id", e.patient_id},
                   {"study_date", e.study_date},
                   {"description", e.study_description},
                   {"accession", e.accession},
                   {"modalities", e.modalities},
                   {"instances", e.instances},
                   {"old", Values(e.old_values)},
                   {"new", Values(e.new_values)}});
  }
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Total-Count", std::to_string(page->total));
  res.set_content(out.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

}  // namespace

void RegisterLifecycleApi(Router& server, WebContext& ctx) {
  server.Get("/api/lifecycle", [&ctx](const httplib::Request& q, httplib::Response& r) { Lifecycle(ctx, q, r); });
}

}  // namespace strata::web
