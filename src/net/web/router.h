// Router: the one place HTTP routes are registered. Each handler group adds its routes here
// (not on httplib::Server directly); the router records every (method, pattern, role) and
// installs a wrapped handler that, before the group's own code runs,
//   1. authenticates the request (AccessPolicy; 401 with a WWW-Authenticate challenge),
//   2. checks the role the method needs (GET read, POST/PUT/PATCH write, DELETE delete; 403),
// and afterwards writes the request's audit record (util/audit_log.h): who, what (the study /
// series / instance of the path or query, or what the handler added through CurrentAudit()),
// the action (query, retrieve, store, delete), outcome. Changes (POST, DELETE) are recorded
// durably before the response leaves; if that fails the response becomes a 503.
// A route registered with kAnyIdentity (sign-in, sign-out) needs an identity but no role.
// Besides the Authorization header, the identity may come from a browser session cookie
// (session.h; set_sessions), which for POST/PUT/PATCH/DELETE must come with the page's
// X-Strata-Request header (403 otherwise).
// routes() lists every registered route, so a test can prove none is left unprotected.
// Handlers run on cpp-httplib's worker threads; CurrentIdentity()/CurrentAudit() are per
// thread and valid only inside a handler.
#pragma once

#include <string>
#include <vector>

#include <httplib.h>

#include "net/web/access.h"
#include "util/audit_log.h"

namespace strata::web {

class SessionTable;

// The "role" of a route any authenticated identity may use, whatever its roles.
inline constexpr unsigned kAnyIdentity = 0;

struct RouteInfo {
  std::string method, pattern;
  unsigned role;       // the role it needs (kRoleRead, kRoleWrite, kRoleDelete; kAnyIdentity)
  std::string action;  // audit action: query | retrieve | store | delete | page
};

class Router {
 public:
  // SERVER, POLICY and AUDIT (may be nullptr) must outlive the router's routes.
  Router(httplib::Server& server, const AccessPolicy* policy, AuditLog* audit)
      : server_(server), policy_(policy), audit_(audit) {}

  Router& Get(const std::string& pattern, httplib::Server::Handler handler);
  Router& Post(const std::string& pattern, httplib::Server::Handler handler);
  Router& Post(const std::string& pattern, httplib::Server::HandlerWithContentReader handler);
  Router& Put(const std::string& pattern, httplib::Server::Handler handler);
  Router& Patch(const std::string& pattern, httplib::Server::Handler handler);
  Router& Delete(const std::string& pattern, httplib::Server::Handler handler);
  // METHOD on PATTERN needing ROLE instead of the method's (kAnyIdentity: any identity).
  Router& Route(const std::string& method, const std::string& pattern, unsigned role,
                httplib::Server::Handler handler);
  // The browser sessions whose cookie is an identity too (null = none; must outlive the routes).
  void set_sessions(SessionTable* sessions) { sessions_ = sessions; }

  const std::vector<RouteInfo>& routes() const { return routes_; }

 private:
  httplib::Server::Handler Wrap(const RouteInfo& route, httplib::Server::Handler handler);
  httplib::Server::HandlerWithContentReader Wrap(const RouteInfo& route,
                                                 httplib::Server::HandlerWithContentReader handler);
  RouteInfo Add(const char* method, const std::string& pattern);
  SessionTable* sessions_ = nullptr;

  httplib::Server& server_;
  const AccessPolicy* policy_;
  AuditLog* audit_;
  std::vector<RouteInfo> routes_;
};

// The identity of the request this thread is handling (set by the router).
const Identity& CurrentIdentity();
// The audit event the router will write for this request: handlers add what they know
// (a STOW's stored instances) to it.
AuditEvent& CurrentAudit();
// Resets both at the start of a request (pre-routing).
void BeginRequestIdentity(const Identity* authenticated);
// The identity pre-routing authenticated for this request, or nullptr.
const Identity* PreAuthenticated();

// The audit action a route of METHOD and PATTERN gets.
std::string ActionOf(const std::string& method, const std::string& pattern);

}  // namespace strata::web
