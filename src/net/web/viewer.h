// The OHIF Viewer at /viewer: the built viewer of npm `@ohif/app` (its package's dist/,
// installed by scripts/install-deps.sh into web/ohif, or web.viewer_dir) served as static
// files, with
//   - /viewer/app-config.js generated here (viewer_config.cc), pointing OHIF at this server's
//     own DICOMweb root (same origin, so no CORS) and passing the page's credentials on;
//   - the path prefix applied: OHIF's dist is built for "/", so index.html and the scripts'
//     webpack public path ("__webpack_require__.p") are rewritten to /viewer/ when served;
//   - SPA fallback: /viewer and /viewer/<route> without a file answer index.html;
//   - MIME types incl. application/wasm, ETag/304, and "immutable" caching for the
//     content-hashed bundles (their names change with their content).
// The viewer's files hold no patient data and are served without authentication (like the
// web page); every DICOMweb request the viewer makes goes through the configured auth.
// Thread-safe: requests are served concurrently; patched files are cached after first use.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <httplib.h>

#include "net/web/router.h"
#include "util/status.h"

namespace strata::web {

struct ViewerOptions {
  std::string dir;  // OHIF's dist/ (holds index.html); empty = no viewer
};

class ViewerFiles {
 public:
  // Checks that DIR holds OHIF's index.html. NotFound (with the install hint) when it does
  // not; the server then answers /viewer with 503 and that hint instead of failing to start.
  static Result<std::unique_ptr<ViewerFiles>> Open(const ViewerOptions& options);

  // Serves REL, the path under /viewer/ ("" for /viewer itself).
  void Serve(const std::string& rel, const httplib::Request& req, httplib::Response& res);

  const std::string& dir() const { return options_.dir; }

 private:
  explicit ViewerFiles(ViewerOptions options) : options_(std::move(options)) {}
  // A text file (html, js, css, json, svg) as served: rewritten for the /viewer/ prefix
  // where needed, and gzip-compressed once.
  struct Text {
    std::string body, gzip, etag;
  };
  Result<std::shared_ptr<const Text>> Cached(const std::string& rel, const std::string& path);

  ViewerOptions options_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Text>> text_;  // by path under /viewer/; files do not change
};

// The JavaScript of /viewer/app-config.js (viewer_config.cc): OHIF's window.config for this
// server. Same-origin DICOMweb roots from location.origin; a bearer token the web page holds
// (sessionStorage "strata-auth") is added to the viewer's DICOMweb requests; basic auth is
// the browser's own (it resends the credentials it was given for this origin).
std::string ViewerAppConfig();

// IN gzip-compressed (RFC 1952).
Result<std::string> Gzip(const std::string& in);

// The default web.viewer_dir: web/ohif in the source tree the binary was built from.
std::string DefaultViewerDir();

// Registers /viewer and /viewer/... on SERVER. FILES may be null (viewer not installed).
void RegisterViewer(Router& server, ViewerFiles* files, const std::string& missing_reason);

}  // namespace strata::web
