#include "net/web/web_server.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <thread>

#include <httplib.h>

#include "net/web/access.h"
#include "net/web/allowed_methods.h"
#include "net/web/http_front.h"
#include "net/web/http_util.h"
#include "net/web/metadata.h"
#include "net/web/request_log.h"
#include "net/web/response_encoding.h"
#include "net/web/web_context.h"
#include "net/web/viewer.h"
#include "net/web/web_page.h"
#include "net/web/site_time_zone.h"
#include "util/log.h"

namespace strata {

using web::AccessPolicy;

struct WebServer::Impl {
  Impl(Archive* a, WebOptions o)
      : archive(a),
        options(std::move(o)),
        metadata(a, options.metadata_cache_bytes, std::max(4, a->options().read_ahead)),
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

  Archive* archive;
  WebOptions options;
  web::MetadataService metadata;
  web::WebContext ctx;
  AccessPolicy policy;
  std::unique_ptr<web::ViewerFiles> viewer;  // null when OHIF is not installed
  std::string viewer_missing;
  web::HttpFront server;  // idle and slow connections wait on one event thread, not on workers
  std::thread thread;
  // HTTPS: the context outlives the front that uses it (members are destroyed in reverse).
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ssl_ctx{nullptr, SSL_CTX_free};
  std::unique_ptr<web::HttpFront> tls_server;
  std::thread tls_thread;
  int https_port = 0;
  bool plain = false;  // the plain port is open
  bool running = false;
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

void WebServer::Impl::Install(web::HttpFront& server) {
  ctx.archive = archive;
  ctx.metadata = &metadata;
  ctx.policy = &policy;
  server.set_tcp_nodelay(true);

  server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    web::BeginRequestLog();
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
    // POST bodies are not read yet here: the STOW handler checks credentials itself.
    if (req.method != "POST" && !web::IsPagePath(req.path) &&
        !policy.Authorized(req.get_header_value("Authorization"))) {
      res.set_header("WWW-Authenticate", policy.Challenge());
      web::SendError(res, 401, "authentication required");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // A client that asks before sending a body ("Expect: 100-continue") learns of a 401 at once.
  server.set_expect_100_continue_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (policy.Authorized(req.get_header_value("Authorization"))) return 100;
    web::BeginRequestLog();
    res.set_header("WWW-Authenticate", policy.Challenge());
    web::SendError(res, 401, "authentication required");
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

  web::RegisterStow(server, ctx);
  web::RegisterQido(server, ctx);
  web::RegisterRendered(server, ctx);
  web::RegisterWadoRs(server, ctx);
  web::RegisterWadoUri(server, ctx);
  web::RegisterDelete(server, ctx);
  web::RegisterApi(server, ctx);
  web::RegisterWebPage(server);
  web::RegisterViewer(server, viewer.get(), viewer_missing);
  web::RegisterMethodNotAllowed(server);  // last: the resources' own routes win
}

WebServer::WebServer(Archive* archive, WebOptions options)
    : impl_(std::make_unique<Impl>(archive, std::move(options))) {}

WebServer::~WebServer() { Stop(); }

Result<int> WebServer::Start() {
  STRATA_ASSIGN_OR_RETURN(impl_->policy, AccessPolicy::Parse(impl_->options.auth, impl_->options.cors_origins));
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
  spdlog::info("event=http_start bind={} port={} http={} https_port={} tls_cert={} auth={} cors={} threads={}", o.bind,
               port, o.http, impl_->https_port, https ? o.tls_cert : std::string("-"),
               impl_->policy.kind() == AccessPolicy::Kind::kNone     ? "none"
               : impl_->policy.kind() == AccessPolicy::Kind::kBearer ? "bearer"
                                                                     : "basic",
               impl_->policy.cors_enabled() ? "on" : "off", o.threads);
  return port;
}

int WebServer::https_port() const { return impl_->https_port; }

void WebServer::Stop() {
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
