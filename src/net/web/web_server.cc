#include "net/web/web_server.h"

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

  static web::FrontOptions FrontOptionsOf(const WebOptions& o) {
    web::FrontOptions f;
    f.workers = std::max(2, o.threads);
    f.header_timeout_s = o.header_timeout_s;
    f.keep_alive_timeout_s = o.keep_alive_timeout_s;
    f.max_connections = o.max_connections;
    return f;
  }

  void Install();

  Archive* archive;
  WebOptions options;
  web::MetadataService metadata;
  web::WebContext ctx;
  AccessPolicy policy;
  std::unique_ptr<web::ViewerFiles> viewer;  // null when OHIF is not installed
  std::string viewer_missing;
  web::HttpFront server;  // idle and slow connections wait on one event thread, not on workers
  std::thread thread;
  bool running = false;
};

void WebServer::Impl::Install() {
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
  spdlog::info("event=http_start bind={} port={} auth={} cors={} threads={}", impl_->options.bind, port,
               impl_->policy.kind() == AccessPolicy::Kind::kNone     ? "none"
               : impl_->policy.kind() == AccessPolicy::Kind::kBearer ? "bearer"
                                                                     : "basic",
               impl_->policy.cors_enabled() ? "on" : "off", impl_->options.threads);
  return port;
}

void WebServer::Stop() {
  if (!impl_ || !impl_->running) return;
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->server.StopFront();
  impl_->running = false;
}

}  // namespace strata
