// DELETE /dicomweb/studies/{s}[/series/{r}[/instances/{i}]]: Archive::Delete (rows at once on
// every node, hot files next, packs compacted in the background). Behind the configured web
// auth (checked before routing, web_server.cc). 204 when deleted, 404 when nothing matched,
// 400 for a malformed UID, 503 when the catalog is unreachable.
#include "archive/archive.h"
#include "net/web/access.h"
#include "net/web/http_util.h"
#include "net/web/web_context.h"

namespace strata::web {
namespace {

// Who asked, for the lifecycle log line: the authenticated identity (or "anonymous") and the
// peer address.
std::string Requester(const httplib::Request& req) {
  const Identity& id = CurrentIdentity();  // authenticated by the router
  return (id.name.empty() ? std::string("anonymous") : id.scheme + ":" + id.name) + "@" + req.remote_addr;
}

void HandleDelete(WebContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string study = req.matches.size() > 1 ? req.matches[1].str() : "";
  const std::string series = req.matches.size() > 2 ? req.matches[2].str() : "";
  const std::string sop = req.matches.size() > 3 ? req.matches[3].str() : "";
  for (const auto& [uid, what] : {std::pair{study, "StudyInstanceUID"}, std::pair{series, "SeriesInstanceUID"},
                                   std::pair{sop, "SOPInstanceUID"}}) {
    if (uid.empty()) continue;
    if (Status s = CheckUid(uid, what); !s.ok()) return SendStatus(res, s);
  }
  auto r = ctx.archive->Delete(study, series, sop, Requester(req));
  if (!r.ok()) return SendStatus(res, r.status());
  res.status = 204;
}

}  // namespace

void RegisterDelete(Router& server, WebContext& ctx) {
  auto h = [&ctx](const httplib::Request& req, httplib::Response& res) { HandleDelete(ctx, req, res); };
  server.Delete(R"(/dicomweb/studies/([^/?]+)/?)", h);
  server.Delete(R"(/dicomweb/studies/([^/?]+)/series/([^/?]+)/?)", h);
  server.Delete(R"(/dicomweb/studies/([^/?]+)/series/([^/?]+)/instances/([^/?]+)/?)", h);
}

}  // namespace strata::web
