#include "net/web/http_util.h"

#include <algorithm>
#include <cctype>
#include <random>

#include <nlohmann/json.hpp>

#include "model/uid.h"

namespace strata::web {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string Strip(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  const size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

// Splits on SEP outside double quotes.
std::vector<std::string> SplitOutsideQuotes(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') quoted = !quoted;
    if (c == '\\' && quoted && i + 1 < s.size()) {
      cur += c;
      cur += s[++i];
      continue;
    }
    if (c == sep && !quoted) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

std::string Unquote(std::string v) {
  v = Strip(v);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
    std::string out;
    for (size_t i = 1; i + 1 < v.size(); ++i) {
      if (v[i] == '\\' && i + 2 < v.size()) ++i;
      out += v[i];
    }
    return out;
  }
  return v;
}

MediaRange ParseOne(const std::string& part) {
  MediaRange r;
  auto fields = SplitOutsideQuotes(part, ';');
  r.type = Lower(Strip(fields[0]));
  for (size_t i = 1; i < fields.size(); ++i) {
    const size_t eq = fields[i].find('=');
    if (eq == std::string::npos) continue;
    std::string name = Lower(Strip(fields[i].substr(0, eq)));
    std::string value = Unquote(fields[i].substr(eq + 1));
    if (name == "q") {
      try {
        r.q = std::stod(value);
      } catch (...) {
        r.q = 1.0;
      }
    } else {
      r.params[name] = value;
    }
  }
  // A bare "*" is sometimes sent for "*/*".
  if (r.type == "*") r.type = "*/*";
  return r;
}

}  // namespace

int HttpStatusFor(const Status& s) {
  switch (s.code()) {
    case Status::Code::kOk: return 200;
    case Status::Code::kInvalidArgument: return 400;
    case Status::Code::kNotFound: return 404;
    case Status::Code::kAlreadyExists:
    case Status::Code::kConflict: return 409;
    case Status::Code::kUnavailable: return 503;
    case Status::Code::kNoSpace: return 507;
    default: return 500;
  }
}

void SendJson(httplib::Response& res, const std::string& body, const char* content_type) {
  res.set_content(body, content_type);
}

void SendError(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  nlohmann::json j = {{"error", message}, {"status", status}};
  res.set_content(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

void SendStatus(httplib::Response& res, const Status& s) {
  const int code = HttpStatusFor(s);
  if (code == 503) res.set_header("Retry-After", "30");
  SendError(res, code, s.message());
}

bool MediaRange::Matches(const std::string& media_type) const {
  if (type == "*/*") return true;
  const std::string mt = Lower(media_type);
  if (type.size() > 2 && type.compare(type.size() - 2, 2, "/*") == 0)
    return mt.compare(0, type.size() - 1, type, 0, type.size() - 1) == 0;
  return type == mt;
}

std::string MediaRange::Param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

std::vector<MediaRange> ParseAccept(const std::string& header) {
  std::vector<MediaRange> out;
  for (const auto& part : SplitOutsideQuotes(header, ',')) {
    if (Strip(part).empty()) continue;
    MediaRange r = ParseOne(part);
    if (r.q <= 0) continue;
    out.push_back(std::move(r));
  }
  if (out.empty() && Strip(header).empty()) out.push_back(MediaRange{"*/*", {}, 1.0});
  std::stable_sort(out.begin(), out.end(), [](const MediaRange& a, const MediaRange& b) { return a.q > b.q; });
  return out;
}

std::vector<MediaRange> RequestAccept(const httplib::Request& req) {
  if (req.has_param("accept")) return ParseAccept(req.get_param_value("accept"));
  return ParseAccept(req.get_header_value("Accept"));
}

std::optional<std::string> ChooseMediaType(const std::vector<MediaRange>& accept,
                                           const std::vector<std::string>& candidates) {
  for (const auto& r : accept)
    for (const auto& c : candidates)
      if (r.Matches(c)) return c;
  return std::nullopt;
}

MediaRange ParseContentType(const std::string& value) { return ParseOne(value); }

std::string BaseUrl(const httplib::Request& req) {
  std::string host = req.get_header_value("Host");
  // A Host header is a host[:port]; anything else (spaces, slashes, quotes) is not echoed.
  const bool sane = !host.empty() && std::all_of(host.begin(), host.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == ':' || c == '-' || c == '[' || c == ']' || c == '_';
  });
  if (!sane) host = "localhost";
  return "http://" + host;
}

std::string NewBoundary() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* kHex = "0123456789abcdef";
  std::string b = "strata-";
  for (int i = 0; i < 32; ++i) b += kHex[rng() & 15];
  return b;
}

Status ReadFailure(const Status& s) {
  if (s.IsNotFound()) return Status::Unavailable("stored bytes unavailable: " + s.message());
  return s;
}

Status CheckUid(const std::string& uid, const char* what) { return ValidateUid(uid, what); }

Result<std::optional<uint64_t>> UintParam(const httplib::Request& req, const std::string& name) {
  if (!req.has_param(name.c_str())) return std::optional<uint64_t>();
  const std::string v = req.get_param_value(name.c_str());
  if (v.empty() || v.size() > 18 || !std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); }))
    return Status::InvalidArgument("parameter " + name + " must be a non-negative integer, not '" + v + "'");
  return std::optional<uint64_t>(std::stoull(v));
}

void DrainBody(const httplib::Request& req, const httplib::ContentReader& content_reader) {
  size_t seen = 0;
  auto drop = [&](const char*, size_t len) {
    seen += len;
    return seen <= kMaxDrainBytes;
  };
  if (req.is_multipart_form_data())
    content_reader([](const httplib::MultipartFormData&) { return true; }, drop);
  else
    content_reader(drop);
}

}  // namespace strata::web
