// WebServer: Strata's HTTP port — DICOMweb (STOW-RS, QIDO-RS, WADO-RS, WADO-URI) under
// /dicomweb and /wado, the web page at / and its JSON API under /api — over cpp-httplib with
// a fixed pool of worker threads that only ever run requests whose header has arrived (idle
// and slow connections wait on one event thread; see http_front.h). Every request passes the access policy (auth, CORS; see
// access.h) and is logged in one line (request_log.h). Start() binds and listens before it
// returns, then serves on its own thread until Stop().
//
// HTTPS: with tls_cert/tls_key and https_port, a second port serves the same routes over TLS
// (1.2 or newer). The plain port then serves everything (http = "on"), answers every request
// with a redirect to the HTTPS port ("redirect"), or is not opened at all ("off").
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "archive/archive.h"
#include "util/status.h"

namespace strata {

class AuditLog;

struct WebOptions {
  std::string bind = "127.0.0.1";
  int port = 8080;                        // 0 = any free port (Start returns it)
  std::string auth;                       // "" | "bearer:TOKEN" | "basic:USER:PASSWORD" (every role)
  std::map<std::string, std::string> users;   // web.users: USER -> "ROLES:PASSWORD" (net/web/access.h)
  std::map<std::string, std::string> tokens;  // web.tokens: NAME -> "ROLES:TOKEN"
  // OAuth 2 / OIDC JWTs (util/jwt.h): on when a JWKS file or URL is set. The URL is fetched at
  // start and every jwks_refresh_s; the file is read at start and at each refresh too.
  std::string jwks_file, jwks_url;
  int jwks_refresh_s = 3600;
  std::string jwt_issuer;
  std::vector<std::string> jwt_audiences;
  std::string jwt_roles_claim = "roles";
  int jwt_leeway_s = 60;
  int64_t session_lifetime_s = 8 * 3600;  // a browser sign-in (POST /api/session) lasts this long
  AuditLog* audit = nullptr;              // the audit trail (not owned; nullptr = none)
  std::vector<std::string> cors_origins;  // allowed Origins; "*" = any
  int threads = 16;                       // requests served at once (a streaming retrieve holds one)
  int header_timeout_s = 10;              // a request header must be complete this long after it began
  int keep_alive_timeout_s = 5;           // idle keep-alive connections are closed after this
  int max_connections = 4096;             // open HTTP connections; more are closed at once
  size_t metadata_cache_bytes = 256u << 20;
  std::string viewer_dir;                 // OHIF's dist/ served at /viewer; "" = web/ohif of the build tree
  std::string time_zone;                  // the site's IANA time zone for the page; "" = the server's
  int https_port = 0;                     // HTTPS port; 0 = no HTTPS
  std::string tls_cert, tls_key;          // PEM certificate chain and private key of the HTTPS port
  std::string http = "on";                // the plain port: "on" | "off" | "redirect" (needs HTTPS)
};

class WebServer {
 public:
  WebServer(Archive* archive, WebOptions options);
  ~WebServer();  // stops
  // Validates the options, binds and starts serving; returns the bound plain port (0 when
  // http = "off").
  Result<int> Start();
  int https_port() const;  // the bound HTTPS port, 0 without HTTPS
  void Stop();
  // Every registered route with the role it needs (after Start), for the route-table test.
  std::vector<std::pair<std::string, std::string>> Routes() const;  // (method, pattern)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace strata
