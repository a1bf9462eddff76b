#include "net/web/web_server.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

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
#include "net/web/response_encoding.h"
#include "net/web/router.h"
#include "net/web/session.h"
#include "net/web/web_context.h"
#include "net/web/viewer.h"
#include "net/web/web_page.h"
#include "net/web/site_time_zone.h"
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
        sessions(web::SessionOptions{std::max<int64_t>(1, options.session_lifetime_s), 10000}),
        server(FrontOptionsOf(options)) {}

  static web::FrontOptions FrontOptionsOf(const WebOptions& o, SSL_CTX* tls = nullptr) {
    web::FrontOptions f;
    f.workers = std::max(2, o.threads);
    f.header_timeout_s = o.header_timeout_s;
    f.keep_alive_timeout_s = o.keep_alive_timeout_s;
    f.max_connections = o.max_connections;
    f.tls = tls;
    return f;
  }

  void Install(web::HttpFront& server);          // every route
  void InstallRedirect(web::HttpFront& server);  // every request -> the same URL on HTTPS
  Result<int> Bind(web::HttpFront& server, int port, const char* what);
  // (Re)loads the JWT keys: the URL if set (the file, if any, when the URL fails), else the file.
  Status LoadJwks();
  void RefreshLoop();

  Archive* archive;
  WebOptions options;
  web::MetadataService metadata;
  web::WebContext ctx;
  AccessPolicy policy;
  web::SessionTable sessions;  // browser sign-ins (session.h), shared by the plain and HTTPS fronts
  std::unique_ptr<web::ViewerFiles> viewer;  // null when OHIF is not installed
  std::string viewer_missing;
  web::HttpFront server;  // idle and slow connections wait on one event thread, not on workers
  std::vector<std::unique_ptr<web::Router>> routers;  // one per front (plain, HTTPS)
  std::thread thread;
  // HTTPS: the context outlives the front that uses it (members are destroyed in reverse).
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ssl_ctx{nullptr, SSL_CTX_free};
  std::unique_ptr<web::HttpFront> tls_server;
  std::thread tls_thread;
  int https_port = 0;
  bool plain = false;  // the plain port is open
  bool running = false;
  std::thread refresher;  // JWKS refresh
  std::mutex refresh_mu;
  std::condition_variable refresh_cv;
  bool stopping = false;
};

namespace {

std::string OpenSslError() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

// The HTTPS context: TLS 1.2 or newer (BCP 195), our certificate chain and its key. Only
// file names reach the error (and so the log), never their contents.
Result<SSL_CTX*> MakeHttpsContext(const std::string& cert, const std::string& key) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) return Status::Internal("cannot create an OpenSSL context: " + OpenSslError());
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> guard(ctx, SSL_CTX_free);
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1)
    return Status::IOError("web.tls_cert " + cert + ": " + OpenSslError());
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1)
    return Status::IOError("web.tls_key " + key + ": " + OpenSslError());
  if (SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument("web.tls_key " + key + " does not match web.tls_cert " + cert);
  }
  return guard.release();
}

// The Host header's name without its port, if it is a plain host name or address literal.
std::string HostName(const std::string& host, const std::string& fallback) {
  std::string h = host;
  if (!h.empty() && h[0] == '[') {
    const size_t end = h.find(']');
    h = end == std::string::npos ? "" : h.substr(0, end + 1);
  } else if (const size_t colon = h.find(':'); colon != std::string::npos) {
    h = h.substr(0, colon);
  }
  const bool ok = !h.empty() && h.size() <= 255 && h.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-[]:") == std::string::npos;
  return ok ? h : fallback;
}

}  // namespace

void WebServer::Impl::InstallRedirect(web::HttpFront& server) {
  server.set_tcp_nodelay(true);
  // 308 keeps the method and body (a STOW-RS POST is re-sent to HTTPS, not turned into GET).
  server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    web::BeginRequestLog();
    const std::string host = HostName(req.get_header_value("Host"), options.bind);
    res.set_redirect("https://" + host + ":" + std::to_string(https_port) + req.target, 308);
    return httplib::Server::HandlerResponse::Handled;
  });
  server.set_logger([](const httplib::Request& req, const httplib::Response& res) { web::EndRequestLog(req, res); });
}

Result<int> WebServer::Impl::Bind(web::HttpFront& server, int port, const char* what) {
  if (port == 0) {
    port = server.bind_to_any_port(options.bind);
    if (port <= 0) return Status::IOError(std::string("cannot bind an ") + what + " port on " + options.bind);
  } else if (!server.bind_to_port(options.bind, port)) {
    return Status::IOError(std::string("cannot bind ") + what + " port " + options.bind + ":" + std::to_string(port));
  }
  return port;
}

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

void WebServer::Impl::Install(web::HttpFront& server) {
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
      web::RequestAuth ra = web::AuthenticateRequest(policy, &sessions, req);
      const web::AuthResult& auth = ra.auth;
      if (!auth.ok && ra.status == 403) {  // a cookie-only change without the page's header
        web::SendError(res, 403, auth.error);
      } else if (!auth.ok) {
        res.set_header("WWW-Authenticate", policy.Challenge(req.has_header("Authorization") ? auth.error : ""));
        web::SendError(res, 401, auth.error);
        // A browser opening the page or the viewer gets the sign-in form as the 401's body.
        if (web::WantsSignInPage(req)) web::SendSignInPage(res);
      }
      if (!auth.ok) {
        if (options.audit != nullptr) {
          AuditEvent e;
          e.action = ra.status == 403 ? "deny" : "reject";
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
    web::RequestAuth ra = web::AuthenticateRequest(policy, &sessions, req);
    const web::AuthResult& auth = ra.auth;
    if (auth.ok) return 100;
    web::BeginRequestLog();
    if (ra.status == 403) {
      web::SendError(res, 403, auth.error);
      return 403;
    }
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
  server.set_post_routing_handler([](const httplib::Request& req, httplib::Response& res) { web::GzipDicomJson(req, res); });
  server.set_logger([](const httplib::Request& req, const httplib::Response& res) { web::EndRequestLog(req, res); });

  // Every route goes through the router: identity, role, audit record.
  routers.push_back(std::make_unique<web::Router>(server, &policy, options.audit));
  web::Router& r = *routers.back();
  r.set_sessions(&sessions);
  web::RegisterSession(r, &sessions, &policy, &server == tls_server.get());  // before /api/'s catch-all
  web::RegisterStow(r, ctx);
  web::RegisterQido(r, ctx);
  web::RegisterRendered(r, ctx);
  web::RegisterWadoRs(r, ctx);
  web::RegisterWadoUri(r, ctx);
  web::RegisterDelete(r, ctx);
  web::RegisterApi(r, ctx);
  web::RegisterCorrections(r, ctx);
  web::RegisterLifecycleApi(r, ctx);
  web::RegisterWebPage(r);
  web::RegisterViewer(r, viewer.get(), viewer_missing);
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
  STRATA_ASSIGN_OR_RETURN(impl_->ctx.time_zone, web::SiteTimeZone(impl_->options.time_zone));
  web::ViewerOptions vo;
  vo.dir = impl_->options.viewer_dir.empty() ? web::DefaultViewerDir() : impl_->options.viewer_dir;
  if (auto v = web::ViewerFiles::Open(vo); v.ok()) {
    impl_->viewer = std::move(v).value();
    spdlog::info("event=viewer_ready dir={}", impl_->viewer->dir());
  } else {
    impl_->viewer_missing = v.status().message();
    spdlog::warn("event=viewer_missing reason=\"{}\"", impl_->viewer_missing);
  }
  const WebOptions& o = impl_->options;
  const bool https = o.https_port > 0;
  if (o.http != "on" && o.http != "off" && o.http != "redirect")
    return Status::InvalidArgument("web.http must be on, off or redirect, not '" + o.http + "'");
  if (https && (o.tls_cert.empty() || o.tls_key.empty()))
    return Status::InvalidArgument("HTTPS (web.https_port) needs web.tls_cert and web.tls_key");
  if (!https && (!o.tls_cert.empty() || !o.tls_key.empty()))
    return Status::InvalidArgument("web.tls_cert/web.tls_key are set but web.https_port is not");
  if (!https && o.http != "on")
    return Status::InvalidArgument("web.http = " + o.http + " needs HTTPS (web.https_port, web.tls_cert, web.tls_key)");
  if (https) {
    STRATA_ASSIGN_OR_RETURN(SSL_CTX * ctx, MakeHttpsContext(o.tls_cert, o.tls_key));
    impl_->ssl_ctx.reset(ctx);
    impl_->tls_server = std::make_unique<web::HttpFront>(Impl::FrontOptionsOf(o, ctx));
    impl_->Install(*impl_->tls_server);
    STRATA_ASSIGN_OR_RETURN(impl_->https_port, impl_->Bind(*impl_->tls_server, o.https_port, "HTTPS"));
  }
  int port = 0;
  if (o.http != "off") {
    if (o.http == "redirect")
      impl_->InstallRedirect(impl_->server);
    else
      impl_->Install(impl_->server);
    STRATA_ASSIGN_OR_RETURN(port, impl_->Bind(impl_->server, o.port, "HTTP"));
    impl_->plain = true;
  }
  impl_->running = true;
  if (impl_->plain) {
    impl_->server.StartFront();
    impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  }
  if (impl_->tls_server) {
    impl_->tls_server->StartFront();
    impl_->tls_thread = std::thread([this] { impl_->tls_server->listen_after_bind(); });
  }
  // File names only: neither the key nor the credentials are logged.
  spdlog::info(
      "event=http_start bind={} port={} http={} https_port={} tls_cert={} auth={} jwt_keys={} audit={} cors={} threads={}",
      o.bind, port, o.http, impl_->https_port, https ? o.tls_cert : std::string("-"), impl_->policy.Describe(),
      impl_->policy.jwt_keys(), o.audit ? "on" : "off", impl_->policy.cors_enabled() ? "on" : "off", o.threads);
  return port;
}

int WebServer::https_port() const { return impl_->https_port; }

std::vector<std::pair<std::string, std::string>> WebServer::Routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  // The plain and the HTTPS front register the same routes: list the first one's.
  if (!impl_->routers.empty())
    for (const auto& r : impl_->routers.front()->routes()) out.emplace_back(r.method, r.pattern);
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
  if (impl_->plain) impl_->server.stop();
  if (impl_->tls_server) impl_->tls_server->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  if (impl_->tls_thread.joinable()) impl_->tls_thread.join();
  if (impl_->plain) impl_->server.StopFront();
  if (impl_->tls_server) impl_->tls_server->StopFront();
  impl_->running = false;
}

}  // namespace strata
