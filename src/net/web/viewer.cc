#include "net/web/viewer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <zlib.h>

#include "net/web/http_util.h"
#include "util/checksum.h"
#include "util/fd_io.h"

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

// Text files go out gzip-compressed when the client accepts it, compressed once here:
// cpp-httplib would otherwise compress every response anew (brotli takes a minute for the
// 17 MB app bundle).
bool Compressible(const std::string& rel) {
  return EndsWith(rel, ".js") || EndsWith(rel, ".css") || EndsWith(rel, ".html") || EndsWith(rel, ".json") ||
         EndsWith(rel, ".svg");
}

bool AcceptsGzip(const httplib::Request& req) {
  const std::string ae = req.get_header_value("Accept-Encoding");
  return ae.find("gzip") != std::string::npos && ae.find("gzip;q=0") == std::string::npos;
}

// Sends BODY of a shared object without cpp-httplib's own compression (it leaves
// content-provider responses alone).
template <typename Owner>
void SendShared(httplib::Response& res, std::shared_ptr<Owner> owner, const std::string* body, const char* type) {
  res.set_content_provider(body->size(), type, [owner, body](size_t offset, size_t length, httplib::DataSink& sink) {
    return sink.write(body->data() + offset, std::min<size_t>(length, 1 << 20));
  });
}

}  // namespace

Result<std::string> Gzip(const std::string& in) {
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return Status::Internal("deflateInit2");
  std::string out(deflateBound(&z, in.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  const size_t n = z.total_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return Status::Internal("gzip failed");
  out.resize(n);
  return out;
}

Result<std::unique_ptr<ViewerFiles>> ViewerFiles::Open(const ViewerOptions& options) {
  if (options.dir.empty()) return Status::NotFound("the OHIF Viewer is not configured (web.viewer_dir is empty)");
  struct stat st {};
  if (::stat((options.dir + "/index.html").c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return Status::NotFound("the OHIF Viewer is not installed in " + options.dir +
                            " (run scripts/install-ohif.sh, part of scripts/install-deps.sh, or set web.viewer_dir to OHIF's dist/)");
  return std::unique_ptr<ViewerFiles>(new ViewerFiles(options));
}

Result<std::shared_ptr<const ViewerFiles::Text>> ViewerFiles::Cached(const std::string& rel, const std::string& path) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = text_.find(rel);
    if (it != text_.end()) return it->second;
  }
  STRATA_ASSIGN_OR_RETURN(std::string body, ReadAll(path));
  if (rel == "index.html") {
    body = PatchIndex(std::move(body));
  } else if (EndsWith(rel, ".js")) {
    // Webpack's public path, from which every chunk, worker and .wasm is loaded.
    ReplaceAll(body, "__webpack_require__.p = \"/\"", std::string("__webpack_require__.p = \"") + kPrefix + "\"");
  } else if (EndsWith(rel, ".css")) {
    ReplaceAll(body, "url(/", std::string("url(") + kPrefix);  // fonts
  }
  auto t = std::make_shared<Text>();
  t->etag = Xxh3Hex(body);
  STRATA_ASSIGN_OR_RETURN(t->gzip, Gzip(body));
  t->body = std::move(body);
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = text_.emplace(rel, t);
  return it->second;
}

void ViewerFiles::Serve(const std::string& rel_in, const httplib::Request& req, httplib::Response& res) {
  std::string rel = rel_in;
  if (rel == "app-config.js") return SendBody(req, res, ViewerAppConfig(), MimeOf(rel), false);
  if (!rel.empty() && rel.back() == '/') rel.pop_back();
  if (!rel.empty() && !SafeRel(rel)) return SendError(res, 404, "no such file");
  std::string path = options_.dir + "/" + rel;
  struct stat st {};
  bool file = !rel.empty() && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  if (!file) {
    // A route of the single-page application (no dot in its last segment) gets index.html;
    // a missing file (e.g. a stale bundle name) is a 404, not HTML the browser would run.
    const size_t slash = rel.rfind('/');
    if (rel.find('.', slash == std::string::npos ? 0 : slash) != std::string::npos)
      return SendError(res, 404, "no such file in the viewer");
    rel = "index.html";
    path = options_.dir + "/index.html";
    file = ::stat(path.c_str(), &st) == 0;
    if (!file) return SendError(res, 503, "the viewer's index.html is gone from " + options_.dir);
  }
  if (Compressible(rel) && st.st_size < (64 << 20)) {
    auto text = Cached(rel, path);
    if (!text.ok()) return SendStatus(res, text.status());
    const std::shared_ptr<const Text>& t = text.value();
    const bool gz = AcceptsGzip(req);
    bool not_modified = false;
    res.set_header("Vary", "Accept-Encoding");
    SetValidators(req, res, "\"" + t->etag + (gz ? "-gz" : "") + "\"", rel != "index.html" && ContentHashed(rel),
                  &not_modified);
    if (not_modified) return;
    if (gz) res.set_header("Content-Encoding", "gzip");
    return SendShared(res, t, gz ? &t->gzip : &t->body, MimeOf(rel));
  }

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
        const Result<size_t> n = PreadUpTo(*shared_fd, buf, std::min(length, sizeof(buf)), offset, "viewer file");
        if (!n.ok() || n.value() == 0) return false;  // the file shrank under us: the connection is cut
        return sink.write(buf, n.value());
      });
}

void RegisterViewer(Router& server, ViewerFiles* files, const std::string& missing_reason) {
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
