#include "net/web/web_server.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <httplib.h>

#include "net/web/access.h"
#include "net/web/allowed_methods.h"
#include "net/web/http_front.h"
#include "net/web/http_util.h"
#include "net/web/metadata.h"
#include "net/web/request_log.h"
#include "net/web/router.h"
#include "net/web/web_context.h"
#include "net/web/web_page.h"
#include "util/file_util.h"
#include "util/log.h"

namespace strata {

using web::AccessPolicy;

namespace {

// GET of a JWKS URL (http or https, cpp-httplib's client over OpenSSL).
Result<std::string> FetchUrl(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return Status::InvalidArgument("web.jwks_url must be http(s)://HOST/PATH");
  const size_t path_start = url.find('/', scheme_end + 3);
  const std::string origin = url.substr(0, path_start);
  const std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
  httplib::Client client(origin);
  client.set_connection_timeout(5);
  client.set_read_timeout(10);
  auto r = client.Get(path);
  if (!r) return Status::Unavailable("fetching " + url + ": " + httplib::to_string(r.error()));
  if (r->status != 200) return Status::Unavailable("fetching " + url + ": HTTP " + std::to_string(r->status));
  return r->body;
}

web::AccessOptions AccessOptionsOf(const WebOptions& o) {
  web::AccessOptions a;
  a.auth = o.auth;
  a.users = o.users;
  a.tokens = o.tokens;
  a.jwt = !o.jwks_file.empty() || !o.jwks_url.empty();
  a.jwt_options.issuer = o.jwt_issuer;
  a.jwt_options.audiences = o.jwt_audiences;
  a.jwt_options.roles_claim = o.jwt_roles_claim;
  a.jwt_options.leeway_s = o.jwt_leeway_s;
  a.cors_origins = o.cors_origins;
  return a;
}

}  // namespace

struct WebServer::Impl {
  Impl(Archive* a, WebOptions o)
      : archive(a),
        options(std::move(o)),
        metadata(a, options.metadata_cache_bytes, std::max(4, a->options().read_ahead)),
        server(FrontOptionsOf(options)) {}

  static web::FrontOptions FrontOptionsOf(const WebOptions& o) {
    web::FrontOptions f;
    f.workers = std::max(2, o.threads);
    f.header_timeout_s = o.header_timeout_s;
    f.keep_alive_timeout_s = o.keep_alive_timeout_s;
    f.max_connections = o.max_connections;
    return f;
  }

  void Install();
  // (Re)loads the JWT keys: the URL if set (the file, if any, when the URL fails), else the file.
  Status LoadJwks();
  void RefreshLoop();

  Archive* archive;
  WebOptions options;
  web::MetadataService metadata;
  web::WebContext ctx;
  AccessPolicy policy;
  web::HttpFront server;  // idle and slow connections wait on one event thread, not on workers
  std::unique_ptr<web::Router> router;
  std::thread thread;
  bool running = false;
  std::thread refresher;  // JWKS refresh
  std::mutex refresh_mu;
  std::condition_variable refresh_cv;
  bool stopping = false;
};

Status WebServer::Impl::LoadJwks() {
  Status url_error;
  if (!options.jwks_url.empty()) {
    auto body = FetchUrl(options.jwks_url);
    if (body.ok()) {
      url_error = policy.SetJwks(body.value());
      if (url_error.ok()) return Status::OK();
    } else {
      url_error = body.status();
    }
    spdlog::warn("event=jwks_fetch_failed url={} error=\"{}\"", options.jwks_url, url_error.ToString());
  }
  if (!options.jwks_file.empty()) {
    auto text = ReadFile(options.jwks_file);
    if (!text.ok()) return text.status();
    return policy.SetJwks(text.value());
  }
  return url_error;
}

void WebServer::Impl::RefreshLoop() {
  std::unique_lock<std::mutex> lk(refresh_mu);
  while (!refresh_cv.wait_for(lk, std::chrono::seconds(std::max(10, options.jwks_refresh_s)), [this] { return stopping; })) {
    lk.unlock();
    Status s = LoadJwks();  // on failure the previous keys stay in use
    if (s.ok())
      spdlog::info("event=jwks_refreshed keys={}", policy.jwt_keys());
    else
      spdlog::warn("event=jwks_refresh_failed error=\"{}\"", s.ToString());
    lk.lock();
  }
}

void WebServer::Impl::Install() {
  ctx.archive = archive;
  ctx.metadata = &metadata;
  ctx.policy = &policy;
  server.set_tcp_nodelay(true);

  server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    web::BeginRequestLog();
    web::BeginRequestIdentity(nullptr);
    const std::string origin = req.get_header_value("Origin");
    const bool cors = policy.OriginAllowed(origin);
    if (cors) {
      res.set_header("Access-Control-Allow-Origin", origin);
      res.set_header("Access-Control-Allow-Credentials", "true");
      res.set_header("Access-Control-Expose-Headers", "Content-Type, Content-Length, Content-Location, Warning");
    }
    if (policy.cors_enabled()) res.set_header("Vary", "Origin");
    if (req.method == "OPTIONS") {  // CORS preflight (or a plain OPTIONS): no auth, no body
      res.status = 204;
      const std::string allow = web::AllowedMethods(req.path);
      res.set_header("Allow", allow.empty() ? "GET, OPTIONS" : allow);
      if (cors) {
        res.set_header("Access-Control-Allow-Methods", allow.empty() ? "GET, OPTIONS" : allow);
        const std::string asked = req.get_header_value("Access-Control-Request-Headers");
        res.set_header("Access-Control-Allow-Headers", asked.empty() ? "Authorization, Content-Type, Accept" : asked);
        res.set_header("Access-Control-Max-Age", "600");
      }
      return httplib::Server::HandlerResponse::Handled;
    }
    // Who is asking, once per request; the Router then checks the route's role. POST bodies
    // are not read yet here: the router authenticates those after draining a refused body.
    if (req.method != "POST") {
      web::AuthResult auth = policy.Authenticate(req.get_header_value("Authorization"));
      if (!auth.ok) {
        res.set_header("WWW-Authenticate", policy.Challenge(req.has_header("Authorization") ? auth.error : ""));
        web::SendError(res, 401, auth.error);
        if (options.audit != nullptr) {
          AuditEvent e;
          e.action = "reject";
          e.success = false;
          e.protocol = "DICOMweb";
          e.user = auth.identity.name;
          e.address = req.remote_addr;
          e.target = req.method + " " + req.path;
          e.detail = auth.identity.scheme + ": " + auth.error;
          options.audit->RecordAccess(e);
        }
        return httplib::Server::HandlerResponse::Handled;
      }
      web::BeginRequestIdentity(&auth.identity);
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // A client that asks before sending a body ("Expect: 100-continue") learns of a 401 at once.
  server.set_expect_100_continue_handler([this](const httplib::Request& req, httplib::Response& res) {
    web::AuthResult auth = policy.Authenticate(req.get_header_value("Authorization"));
    if (auth.ok) return 100;
    web::BeginRequestLog();
    res.set_header("WWW-Authenticate", policy.Challenge(req.has_header("Authorization") ? auth.error : ""));
    web::SendError(res, 401, auth.error);
    return 401;
  });
  server.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    web::SendError(res, res.status, res.status == 404 ? "not found" : res.status == 405 ? "method not allowed" : "request failed");
    return httplib::Server::HandlerResponse::Handled;
  }));
  server.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    spdlog::error("event=http_exception path={} error=\"{}\"", req.path, what);
    web::SendError(res, 500, "internal error: " + what);
  });
  server.set_logger([](const httplib::Request& req, const httplib::Response& res) { web::EndRequestLog(req, res); });

  // Every route goes through the router: identity, role, audit record.
  router = std::make_unique<web::Router>(server, &policy, options.audit);
  web::Router& r = *router;
  web::RegisterStow(r, ctx);
  web::RegisterQido(r, ctx);
  web::RegisterRendered(r, ctx);
  web::RegisterWadoRs(r, ctx);
  web::RegisterWadoUri(r, ctx);
  web::RegisterDelete(r, ctx);
  web::RegisterApi(r, ctx);
  web::RegisterWebPage(r);
  web::RegisterMethodNotAllowed(r);  // last: the resources' own routes win
}

WebServer::WebServer(Archive* archive, WebOptions options)
    : impl_(std::make_unique<Impl>(archive, std::move(options))) {}

WebServer::~WebServer() { Stop(); }

Result<int> WebServer::Start() {
  STRATA_ASSIGN_OR_RETURN(impl_->policy, AccessPolicy::Create(AccessOptionsOf(impl_->options)));
  if (impl_->policy.jwt_enabled()) {
    if (Status s = impl_->LoadJwks(); !s.ok()) return Status::InvalidArgument("JWT keys: " + s.ToString());
    impl_->refresher = std::thread([this] { impl_->RefreshLoop(); });
  }
  impl_->Install();
  int port = impl_->options.port;
  if (port == 0) {
    port = impl_->server.bind_to_any_port(impl_->options.bind);
    if (port <= 0) return Status::IOError("cannot bind an HTTP port on " + impl_->options.bind);
  } else if (!impl_->server.bind_to_port(impl_->options.bind, port)) {
    return Status::IOError("cannot bind HTTP port " + impl_->options.bind + ":" + std::to_string(port));
  }
  impl_->running = true;
  impl_->server.StartFront();
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  spdlog::info("event=http_start bind={} port={} auth={} jwt_keys={} audit={} cors={} threads={}", impl_->options.bind,
               port, impl_->policy.Describe(), impl_->policy.jwt_keys(), impl_->options.audit ? "on" : "off",
               impl_->policy.cors_enabled() ? "on" : "off", impl_->options.threads);
  return port;
}

std::vector<std::pair<std::string, std::string>> WebServer::Routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  if (impl_->router)
    for (const auto& r : impl_->router->routes()) out.emplace_back(r.method, r.pattern);
  return out;
}

void WebServer::Stop() {
  if (impl_ && impl_->refresher.joinable()) {
    {
      std::lock_guard<std::mutex> lk(impl_->refresh_mu);
      impl_->stopping = true;
    }
    impl_->refresh_cv.notify_all();
    impl_->refresher.join();
  }
  if (!impl_ || !impl_->running) return;
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->server.StopFront();
  impl_->running = false;
}

}  // namespace strata
