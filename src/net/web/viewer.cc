#include "net/web/viewer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "net/web/http_util.h"
#include "util/checksum.h"

namespace strata::web {
namespace {

constexpr const char* kPrefix = "/viewer/";

bool EndsWith(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

const char* MimeOf(const std::string& name) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".jsonc", "application/json"},
      {".map", "application/json"},
      {".webapp", "application/x-web-app-manifest+json"},
      {".wasm", "application/wasm"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/vnd.microsoft.icon"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".xml", "application/xml"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const auto& [ext, type] : kTypes)
    if (EndsWith(name, ext)) return type;
  return "application/octet-stream";
}

// Webpack names its bundles with a 16-hex content hash ("app.bundle.0f6159c501addfe9.js",
// "5130ccb17e3f3f5b.wasm"): such a file never changes under its name.
bool ContentHashed(const std::string& rel) {
  const size_t slash = rel.rfind('/');
  const std::string base = slash == std::string::npos ? rel : rel.substr(slash + 1);
  size_t run = 0;
  for (char c : base) {
    if (std::isxdigit(static_cast<unsigned char>(c)) && !std::isupper(static_cast<unsigned char>(c))) {
      if (++run >= 16) return true;
    } else {
      run = 0;
    }
  }
  return false;
}

// A path under /viewer/ that may touch the disk: [A-Za-z0-9_.-] segments, none empty or
// starting with a dot (so no "..", no hidden files).
bool SafeRel(const std::string& rel) {
  if (rel.empty() || rel.size() > 256) return false;
  size_t start = 0;
  while (start <= rel.size()) {
    const size_t end = std::min(rel.find('/', start), rel.size());
    if (end == start || rel[start] == '.') return false;
    for (size_t i = start; i < end; ++i) {
      const char c = rel[i];
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') return false;
    }
    start = end + 1;
  }
  return true;
}

Result<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return Status::IOError("cannot read " + path);
  return s.str();
}

size_t ReplaceAll(std::string& s, const std::string& from, const std::string& to) {
  size_t n = 0;
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
    ++n;
  }
  return n;
}

// index.html is built for "/": its PUBLIC_URL and its root-absolute src/href move under
// /viewer/ (app-config.js included, so the generated one is the one loaded).
std::string PatchIndex(std::string html) {
  ReplaceAll(html, "window.PUBLIC_URL=\"/\"", std::string("window.PUBLIC_URL=\"") + kPrefix + "\"");
  ReplaceAll(html, "src=\"/", std::string("src=\"") + kPrefix);
  ReplaceAll(html, "href=\"/", std::string("href=\"") + kPrefix);
  return html;
}

void SetValidators(const httplib::Request& req, httplib::Response& res, const std::string& etag, bool immutable,
                   bool* not_modified) {
  res.set_header("ETag", etag);
  res.set_header("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  res.set_header("X-Content-Type-Options", "nosniff");
  *not_modified = req.get_header_value("If-None-Match") == etag;
  if (*not_modified) res.status = 304;
}

void SendBody(const httplib::Request& req, httplib::Response& res, std::string body, const char* type,
              bool immutable) {
  bool not_modified = false;
  SetValidators(req, res, "\"" + Xxh3Hex(body) + "\"", immutable, &not_modified);
  if (!not_modified) res.set_content(std::move(body), type);
}

}  // namespace

Result<std::unique_ptr<ViewerFiles>> ViewerFiles::Open(const ViewerOptions& options) {
  if (options.dir.empty()) return Status::NotFound("the OHIF Viewer is not configured (web.viewer_dir is empty)");
  struct stat st {};
  if (::stat((options.dir + "/index.html").c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return Status::NotFound("the OHIF Viewer is not installed in " + options.dir +
                            " (run scripts/install-deps.sh, or set web.viewer_dir to OHIF's dist/)");
  return std::unique_ptr<ViewerFiles>(new ViewerFiles(options));
}

Result<std::shared_ptr<const std::string>> ViewerFiles::Patched(const std::string& rel, const std::string& path) {
  const bool index = rel == "index.html";
  if (!index && !EndsWith(rel, ".js")) return std::shared_ptr<const std::string>();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = patched_.find(rel);
    if (it != patched_.end()) return it->second->empty() ? std::shared_ptr<const std::string>() : it->second;
  }
  STRATA_ASSIGN_OR_RETURN(std::string body, ReadAll(path));
  size_t changes = 0;
  if (index) {
    body = PatchIndex(std::move(body));
    changes = 1;
  } else {
    // Webpack's public path, from which every chunk, worker and .wasm is loaded.
    changes = ReplaceAll(body, "__webpack_require__.p = \"/\"",
                         std::string("__webpack_require__.p = \"") + kPrefix + "\"");
  }
  auto entry = std::make_shared<const std::string>(changes ? std::move(body) : std::string());
  std::lock_guard<std::mutex> lock(mu_);
  patched_[rel] = entry;  // unchanged scripts are remembered as "" and streamed from disk
  return entry->empty() ? std::shared_ptr<const std::string>() : entry;
}

void ViewerFiles::Serve(const std::string& rel_in, const httplib::Request& req, httplib::Response& res) {
  std::string rel = rel_in;
  if (rel == "app-config.js") return SendBody(req, res, ViewerAppConfig(), MimeOf(rel), false);
  if (!rel.empty() && rel.back() == '/') rel.pop_back();
  if (!rel.empty() && !SafeRel(rel)) return SendError(res, 404, "no such file");
  std::string path = options_.dir + "/" + rel;
  struct stat st {};
  const bool file = !rel.empty() && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  if (!file) {
    // A route of the single-page application (no dot in its last segment) gets index.html;
    // a missing file (e.g. a stale bundle name) is a 404, not HTML the browser would run.
    const size_t slash = rel.rfind('/');
    if (rel.find('.', slash == std::string::npos ? 0 : slash) != std::string::npos)
      return SendError(res, 404, "no such file in the viewer");
    rel = "index.html";
    path = options_.dir + "/index.html";
  }
  auto patched = Patched(rel, path);
  if (!patched.ok()) return SendStatus(res, patched.status());
  if (*patched) return SendBody(req, res, **patched, MimeOf(rel), false);

  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    if (fd >= 0) ::close(fd);
    return SendError(res, 500, "cannot read " + rel + ": " + std::strerror(errno));
  }
  bool not_modified = false;
  SetValidators(req, res,
                "\"" + std::to_string(st.st_size) + "-" + std::to_string(st.st_mtim.tv_sec) + "." +
                    std::to_string(st.st_mtim.tv_nsec) + "\"",
                ContentHashed(rel), &not_modified);
  if (not_modified) {
    ::close(fd);
    return;
  }
  auto shared_fd = std::shared_ptr<int>(new int(fd), [](int* p) {
    ::close(*p);
    delete p;
  });
  res.set_content_provider(
      static_cast<size_t>(st.st_size), MimeOf(rel),
      [shared_fd](size_t offset, size_t length, httplib::DataSink& sink) {
        char buf[1 << 16];
        const ssize_t n = ::pread(*shared_fd, buf, std::min(length, sizeof(buf)), static_cast<off_t>(offset));
        if (n <= 0) return false;  // the file shrank under us: the connection is cut
        return sink.write(buf, static_cast<size_t>(n));
      });
}

void RegisterViewer(httplib::Server& server, ViewerFiles* files, const std::string& missing_reason) {
  auto handle = [files, missing_reason](const httplib::Request& req, httplib::Response& res, const std::string& rel) {
    if (files == nullptr) return SendError(res, 503, missing_reason);
    files->Serve(rel, req, res);
  };
  server.Get("/viewer", [handle](const httplib::Request& req, httplib::Response& res) { handle(req, res, ""); });
  server.Get(R"(/viewer/(.*))", [handle](const httplib::Request& req, httplib::Response& res) {
    handle(req, res, req.matches[1]);
  });
}

}  // namespace strata::web
