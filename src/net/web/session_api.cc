// /api/session: sign in (POST), who am I (GET), sign out (DELETE). See session.h.
#include <nlohmann/json.hpp>

#include <ctime>

#include "net/web/http_util.h"
#include "net/web/session.h"
#include "net/web/web_context.h"
#include "net/web/web_page.h"
#include "util/log.h"

namespace strata::web {
namespace {

nlohmann::json Describe(const Identity& who, int64_t expires_s) {
  nlohmann::json j = {{"user", who.name}, {"roles", RoleNames(who.roles)}};
  if (expires_s > 0) j["expires"] = expires_s;
  return j;
}

}  // namespace

void RegisterSession(Router& server, SessionTable* sessions, const AccessPolicy* policy, bool https) {
  // Sign in: the Router has authenticated the request's credentials already (any identity may
  // sign in; its roles go with the session). A cookie cannot be traded for a new one: the
  // session's end stays where the credentials put it.
  server.Route("POST", kSessionPath, kAnyIdentity, [=](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    const Identity& who = CurrentIdentity();
    if (!policy->enabled()) {
      SendJson(res, nlohmann::json{{"user", ""}, {"roles", RoleNames(who.roles)}, {"auth", "off"}}.dump());
      return;
    }
    if (who.scheme == "session") {
      SendError(res, 400, "sign in with credentials (Authorization: Basic or Bearer), not with the session cookie");
      return;
    }
    const int64_t now = static_cast<int64_t>(time(nullptr));
    auto s = sessions->Create(who, now);
    if (!s.ok()) {
      SendStatus(res, s.status());
      return;
    }
    res.set_header("Set-Cookie", SessionSetCookie(s->id, s->expires_s - now, https));
    spdlog::info("event=http_sign_in user={} scheme={} expires_in_s={} sessions={}", who.name, who.scheme,
                 s->expires_s - now, sessions->size());
    SendJson(res, Describe(who, s->expires_s).dump());
  });
  server.Route("GET", kSessionPath, kAnyIdentity, [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    const Identity& who = CurrentIdentity();
    nlohmann::json j = Describe(who, 0);
    j["scheme"] = who.scheme;
    SendJson(res, j.dump());
  });
  // Sign out: the cookie's session ends here at once; the browser is told to drop the cookie.
  server.Route("DELETE", kSessionPath, kAnyIdentity, [=](const httplib::Request& req, httplib::Response& res) {
    const std::string id = CookieValue(req.get_header_value("Cookie"), kSessionCookie);
    const bool removed = !id.empty() && sessions->Remove(id);
    spdlog::info("event=http_sign_out user={} removed={}", CurrentIdentity().name, removed);
    res.set_header("Set-Cookie", SessionSetCookie("", 0, https));
    res.set_header("Cache-Control", "no-store");
    res.status = 204;
  });
}

bool WantsSignInPage(const httplib::Request& req) {
  if (req.method != "GET" || !IsPagePath(req.path) || req.path.rfind("/assets/", 0) == 0) return false;
  for (const MediaRange& m : ParseAccept(req.get_header_value("Accept")))
    if (m.type == "text/html") return true;
  return false;
}

void SendSignInPage(httplib::Response& res) {
  for (const auto& a : EmbeddedAssets()) {
    if (std::string(a.name) != "signin.html") continue;
    res.set_content(std::string(reinterpret_cast<const char*>(a.data), a.size), "text/html; charset=utf-8");
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Content-Type-Options", "nosniff");
    return;
  }
}

}  // namespace strata::web
