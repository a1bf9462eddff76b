#include "net/web/web_page.h"

#include "net/web/web_context.h"
#include "util/checksum.h"

namespace strata::web {
namespace {

const char* ContentTypeOf(const std::string& name) {
  auto ends = [&](const char* ext) {
    const std::string e(ext);
    return name.size() >= e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".js")) return "application/javascript; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  return "application/octet-stream";
}

void Serve(const EmbeddedAsset& a, const httplib::Request& req, httplib::Response& res) {
  const std::string body(reinterpret_cast<const char*>(a.data), a.size);
  const std::string etag = "\"" + Xxh3Hex(body) + "\"";
  res.set_header("ETag", etag);
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Content-Type-Options", "nosniff");
  if (req.get_header_value("If-None-Match") == etag) {
    res.status = 304;
    return;
  }
  res.set_content(body, ContentTypeOf(a.name));
}

const EmbeddedAsset* Find(const std::string& name) {
  for (const auto& a : EmbeddedAssets())
    if (name == a.name) return &a;
  return nullptr;
}

}  // namespace

bool IsPagePath(const std::string& path) {
  return path == "/" || path == "/viewer" || path.rfind("/viewer/", 0) == 0 || path == "/index.html" || path == "/favicon.ico" || path.rfind("/assets/", 0) == 0;
}

void RegisterWebPage(Router& server) {
  auto index = [](const httplib::Request& req, httplib::Response& res) {
    if (const EmbeddedAsset* a = Find("index.html")) Serve(*a, req, res);
  };
  server.Get("/", index);
  server.Get("/index.html", index);
  server.Get("/favicon.ico", [](const httplib::Request& req, httplib::Response& res) {
    if (const EmbeddedAsset* a = Find("favicon.svg")) Serve(*a, req, res);
  });
  server.Get(R"(/assets/([A-Za-z0-9_.-]+))", [](const httplib::Request& req, httplib::Response& res) {
    const EmbeddedAsset* a = Find(req.matches[1]);
    if (a == nullptr) {
      res.status = 404;
      res.set_content("{\"error\":\"no such file\",\"status\":404}", "application/json");
      return;
    }
    Serve(*a, req, res);
  });
}

}  // namespace strata::web
