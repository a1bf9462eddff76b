// Browser sessions: sign-in for a browser when web auth is on. A browser cannot attach a
// bearer token to a <script src>, an <img> or to the OHIF Viewer's fetches of its own files, so
// `POST /api/session` with the credentials AccessPolicy accepts (HTTP Basic, a static bearer
// token, an OIDC JWT) answers with a session cookie; the Router then takes that cookie as the
// identity that signed in (its roles), for every route, until it expires or `DELETE
// /api/session` signs out.
//
// The cookie: `strata_session=<64 hex digits>` — 256 bits from the OS's CSPRNG (OpenSSL
// RAND_bytes) — with HttpOnly (page scripts cannot read it), SameSite=Strict (no other site's
// page makes the browser send it), Path=/, Max-Age = the session's remaining life, and Secure
// when it was issued over HTTPS. The table keeps only the SHA-256 of each id, so neither a
// memory dump nor a lookup's timing gives a usable id away.
//
// Lifetime: a session ends LIFETIME_S after sign-in (no sliding renewal), or earlier when the
// credential it came from ends earlier (a JWT's exp). At most MAX_SESSIONS live at once: the
// one closest to its end is dropped for a new one. Sessions live in this process's memory: a
// restart signs every browser out (they sign in again), and with several nodes behind one
// name the balancer must keep a browser on one node (or the browser signs in on each).
//
// CSRF: a request that authenticates only by the cookie and changes something (POST, PUT,
// PATCH, DELETE) must carry `X-Strata-Request: 1`, else 403. SameSite=Strict alone already
// keeps other sites' pages from sending the cookie in current browsers, but "site" is the
// registrable domain: a page on another host of the hospital's domain (a sibling sub-domain)
// is same-site and would pass. A custom header cannot be sent cross-origin without a CORS
// preflight, which this server grants only to web.cors_origins, and HTML forms cannot set one,
// so requiring it closes that door too, and covers browsers without SameSite. GET/HEAD stay
// plain (they change nothing, and <img>/<script> loads cannot carry headers).
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <httplib.h>

#include "net/web/access.h"
#include "util/status.h"

namespace strata::web {

inline constexpr const char* kSessionCookie = "strata_session";
inline constexpr const char* kSessionPath = "/api/session";
inline constexpr const char* kCsrfHeader = "X-Strata-Request";

struct SessionOptions {
  int64_t lifetime_s = 8 * 3600;
  size_t max_sessions = 10000;
};

struct NewSession {
  std::string id;          // the cookie value (64 hex digits)
  int64_t expires_s = 0;   // Unix seconds
};

class SessionTable {
 public:
  explicit SessionTable(SessionOptions options) : options_(options) {}

  // A new session for IDENTITY (which must be an authenticated one) at NOW_S. Internal only if
  // the random generator fails.
  Result<NewSession> Create(const Identity& identity, int64_t now_s);
  // The identity of session ID at NOW_S (scheme "session"); nullopt when the id is unknown,
  // malformed, signed out or expired (an expired one is removed).
  std::optional<Identity> Find(const std::string& id, int64_t now_s);
  // Signs session ID out; false when there was none.
  bool Remove(const std::string& id);
  size_t size() const;
  const SessionOptions& options() const { return options_; }

 private:
  struct Entry {
    Identity identity;
    int64_t expires_s;
  };
  void DropExpired(int64_t now_s);  // with mu_ held
  SessionOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> by_digest_;  // SHA-256 (raw) of the id -> session
};

// The value of cookie NAME in a Cookie header ("" when absent).
std::string CookieValue(const std::string& cookie_header, const std::string& name);
// The Set-Cookie value of a session cookie ID living MAX_AGE_S; with MAX_AGE_S 0 and an empty
// ID, the one that makes the browser drop it.
std::string SessionSetCookie(const std::string& id, int64_t max_age_s, bool secure);

// Who sent REQ: its Authorization header when it has one (AccessPolicy), else its session
// cookie (SESSIONS may be null: no sessions). STATUS is the refusal's HTTP status when !ok:
// 401 (no identity), or 403 for a cookie-only change without the X-Strata-Request header.
struct RequestAuth {
  AuthResult auth;
  bool by_cookie = false;
  int status = 401;
};
RequestAuth AuthenticateRequest(const AccessPolicy& policy, SessionTable* sessions, const httplib::Request& req,
                                int64_t now_s);
RequestAuth AuthenticateRequest(const AccessPolicy& policy, SessionTable* sessions, const httplib::Request& req);

class Router;
// POST/GET/DELETE /api/session (session_api.cc). HTTPS: the cookie gets Secure.
void RegisterSession(Router& server, SessionTable* sessions, const AccessPolicy* policy, bool https);
// True for a browser's navigation to the page or the viewer (GET of a page path accepting
// text/html): its 401 carries the sign-in page (assets/signin.html, self-contained: it needs
// nothing that itself needs an identity) as the body.
bool WantsSignInPage(const httplib::Request& req);
void SendSignInPage(httplib::Response& res);

}  // namespace strata::web
