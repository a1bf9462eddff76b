#include "net/web/router.h"

#include "net/web/http_util.h"
#include "net/web/session.h"
#include "util/log.h"

namespace strata::web {
namespace {

thread_local Identity t_identity;
thread_local bool t_pre_authenticated = false;
thread_local AuditEvent t_audit;

bool IsPage(const std::string& pattern) {
  return pattern == "/" || pattern == "/index.html" || pattern == "/favicon.ico" || pattern.rfind("/assets/", 0) == 0;
}

bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The study / series / instance a request is about: path segments after studies/, series/,
// instances/ (DICOMweb, /api), or WADO-URI's query parameters.
void FillWhat(const httplib::Request& req, AuditEvent* e) {
  std::vector<std::string> seg;
  size_t pos = 1;
  while (pos <= req.path.size()) {
    size_t end = req.path.find('/', pos);
    if (end == std::string::npos) end = req.path.size();
    seg.push_back(req.path.substr(pos, end - pos));
    pos = end + 1;
  }
  for (size_t i = 0; i + 1 < seg.size(); ++i) {
    if (seg[i] == "studies") e->study = seg[i + 1].substr(0, 64);
    if (seg[i] == "series") e->series = seg[i + 1].substr(0, 64);
    if (seg[i] == "instances") e->instances = {seg[i + 1].substr(0, 64)};
  }
  if (req.path == "/wado" || req.path == "/wado/") {
    e->study = req.get_param_value("studyUID").substr(0, 64);
    e->series = req.get_param_value("seriesUID").substr(0, 64);
    if (req.has_param("objectUID")) e->instances = {req.get_param_value("objectUID").substr(0, 64)};
  }
}

// Authenticates and authorizes; false after writing the 401/403 (and its audit record).
bool Admit(const AccessPolicy* policy, SessionTable* sessions, AuditLog* audit, const RouteInfo& route,
           const httplib::Request& req, httplib::Response& res) {
  t_audit = AuditEvent();
  t_audit.protocol = route.action == "page" ? "web" : "DICOMweb";
  t_audit.address = req.remote_addr;
  t_audit.target = req.method + " " + req.path;
  AuthResult auth;
  int refusal = 401;
  if (t_pre_authenticated) {
    auth.ok = true;
    auth.identity = t_identity;
  } else if (policy != nullptr) {
    RequestAuth ra = AuthenticateRequest(*policy, sessions, req);
    auth = std::move(ra.auth);
    refusal = ra.status;
  } else {
    auth.ok = true;
    auth.identity = {"", "none", kRoleAll};
  }
  t_audit.user = auth.identity.name;
  FillWhat(req, &t_audit);
  if (!auth.ok && refusal == 403) {  // a cookie-only change without the page's header
    SendError(res, 403, auth.error);
    if (audit != nullptr) {
      t_audit.action = "deny";
      t_audit.success = false;
      t_audit.detail = auth.error;
      audit->RecordAccess(t_audit);
    }
    return false;
  }
  if (!auth.ok) {
    res.set_header("WWW-Authenticate", policy->Challenge(req.has_header("Authorization") ? auth.error : ""));
    SendError(res, 401, auth.error);
    if (audit != nullptr) {
      t_audit.action = "reject";
      t_audit.success = false;
      t_audit.detail = auth.identity.scheme + ": " + auth.error;
      audit->RecordAccess(t_audit);
    }
    return false;
  }
  t_identity = auth.identity;
  t_pre_authenticated = true;
  if (route.role != kAnyIdentity && (auth.identity.roles & route.role) == 0) {
    const std::string why = "'" + auth.identity.name + "' lacks the " + RoleNames(route.role) + " role for " +
                            req.method + " (has: " + RoleNames(auth.identity.roles) + ")";
    res.set_header("WWW-Authenticate", "Bearer realm=\"strata\", error=\"insufficient_scope\"");
    SendError(res, 403, why);
    spdlog::warn("event=http_denied user={} peer={} method={} path={} reason=\"{}\"", auth.identity.name,
                 req.remote_addr, req.method, req.path, why);
    if (audit != nullptr) {
      t_audit.action = "deny";
      t_audit.success = false;
      t_audit.detail = why;
      audit->RecordAccess(t_audit);
    }
    return false;
  }
  t_audit.action = route.action;
  return true;
}

// The request's audit record; a change that cannot be recorded durably is not reported done.
void Finish(AuditLog* audit, const RouteInfo& route, httplib::Response& res) {
  if (audit == nullptr || route.action == "page") return;
  AuditEvent& e = t_audit;
  e.success = res.status < 400;
  if (!e.success) e.detail = "HTTP " + std::to_string(res.status);
  if (res.status == 202) e.detail = "some instances failed";
  const bool change = route.action == "store" || route.action == "delete";
  if (change && e.success) {
    if (Status s = audit->RecordChange(e); !s.ok()) {
      spdlog::error("event=audit_failed path={} error=\"{}\"", e.target, s.ToString());
      res.headers.erase("Content-Location");
      SendError(res, 503, "the audit trail cannot be written: " + s.message());
    }
  } else {
    audit->RecordAccess(e);
  }
}

}  // namespace

std::string ActionOf(const std::string& method, const std::string& pattern) {
  if (pattern == kSessionPath && method != "GET") return method == "DELETE" ? "logout" : "login";
  if (method == "DELETE") return "delete";
  if (method != "GET") return "store";
  if (IsPage(pattern)) return "page";
  if (pattern.rfind("/api/", 0) == 0) return "query";
  for (const char* collection : {"studies/?", "series/?", "instances/?"})
    if (EndsWith(pattern, collection)) return "query";
  return "retrieve";
}

const Identity& CurrentIdentity() { return t_identity; }
AuditEvent& CurrentAudit() { return t_audit; }
const Identity* PreAuthenticated() { return t_pre_authenticated ? &t_identity : nullptr; }

void BeginRequestIdentity(const Identity* authenticated) {
  t_pre_authenticated = authenticated != nullptr;
  t_identity = authenticated != nullptr ? *authenticated : Identity();
  t_audit = AuditEvent();
}

RouteInfo Router::Add(const char* method, const std::string& pattern) {
  const std::string m = method;
  RouteInfo r{m, pattern, m == "GET" ? kRoleRead : m == "DELETE" ? kRoleDelete : kRoleWrite, ActionOf(m, pattern)};
  routes_.push_back(r);
  return r;
}

httplib::Server::Handler Router::Wrap(const RouteInfo& route, httplib::Server::Handler handler) {
  return [policy = policy_, this, audit = audit_, route, handler = std::move(handler)](const httplib::Request& req,
                                                                                        httplib::Response& res) {
    if (!Admit(policy, sessions_, audit, route, req, res)) return;
    handler(req, res);
    Finish(audit, route, res);
  };
}

httplib::Server::HandlerWithContentReader Router::Wrap(const RouteInfo& route,
                                                       httplib::Server::HandlerWithContentReader handler) {
  return [policy = policy_, this, audit = audit_, route, handler = std::move(handler)](
             const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
    if (!Admit(policy, sessions_, audit, route, req, res)) {
      DrainBody(req, reader);  // the client reads the 401/403 rather than a reset connection
      return;
    }
    handler(req, res, reader);
    Finish(audit, route, res);
  };
}

Router& Router::Get(const std::string& p, httplib::Server::Handler h) {
  server_.Get(p, Wrap(Add("GET", p), std::move(h)));
  return *this;
}
Router& Router::Post(const std::string& p, httplib::Server::Handler h) {
  server_.Post(p, Wrap(Add("POST", p), std::move(h)));
  return *this;
}
Router& Router::Post(const std::string& p, httplib::Server::HandlerWithContentReader h) {
  server_.Post(p, Wrap(Add("POST", p), std::move(h)));
  return *this;
}
Router& Router::Put(const std::string& p, httplib::Server::Handler h) {
  server_.Put(p, Wrap(Add("PUT", p), std::move(h)));
  return *this;
}
Router& Router::Patch(const std::string& p, httplib::Server::Handler h) {
  server_.Patch(p, Wrap(Add("PATCH", p), std::move(h)));
  return *this;
}
Router& Router::Route(const std::string& method, const std::string& p, unsigned role, httplib::Server::Handler h) {
  RouteInfo info = Add(method.c_str(), p);
  info.role = role;
  routes_.back().role = role;
  httplib::Server::Handler wrapped = Wrap(info, std::move(h));
  if (method == "GET") server_.Get(p, std::move(wrapped));
  else if (method == "POST") server_.Post(p, std::move(wrapped));
  else if (method == "PUT") server_.Put(p, std::move(wrapped));
  else if (method == "PATCH") server_.Patch(p, std::move(wrapped));
  else if (method == "DELETE") server_.Delete(p, std::move(wrapped));
  return *this;
}
Router& Router::Delete(const std::string& p, httplib::Server::Handler h) {
  server_.Delete(p, Wrap(Add("DELETE", p), std::move(h)));
  return *this;
}

}  // namespace strata::web
