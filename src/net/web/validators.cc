#include "net/web/validators.h"

#include <algorithm>
#include <ctime>

#include "util/checksum.h"
#include "util/strings.h"

namespace strata::web {

std::string RecordsEtag(const std::vector<InstanceRecord>& records, const std::string& variant) {
  Xxh3Stream h;
  h.Update(variant);
  for (const auto& r : records) {
    for (std::string_view field : {std::string_view(r.sop_uid), std::string_view(r.checksum),
                                   std::string_view(StoredSyntax(r)), std::string_view(r.location.entry_checksum)}) {
      h.Update(field);
      h.Update(std::string_view("\0", 1));  // separator: fields cannot run into each other
    }
  }
  return "W/\"" + HexU64(h.Digest()) + "\"";
}

std::string HttpDate(int64_t unix_ms) {
  const std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

namespace {

std::string Opaque(std::string tag) {  // weak comparison ignores W/
  if (tag.rfind("W/", 0) == 0) tag.erase(0, 2);
  return tag;
}

}  // namespace

bool EtagMatches(const std::string& if_none_match, const std::string& etag) {
  const std::string want = Opaque(etag);
  for (const std::string& item : SplitComma(if_none_match))
    if (item == "*" || (!item.empty() && Opaque(item) == want)) return true;
  return false;
}

bool AnswerNotModified(const httplib::Request& req, httplib::Response& res,
                       const std::vector<InstanceRecord>& records, const std::string& variant) {
  const std::string etag = RecordsEtag(records, variant);
  int64_t newest = 0;
  for (const auto& r : records) newest = std::max(newest, r.received_ms);
  res.set_header("ETag", etag);
  if (newest > 0) res.set_header("Last-Modified", HttpDate(newest));
  res.set_header("Cache-Control", "private, no-cache");
  if (!req.has_header("If-None-Match") || !EtagMatches(req.get_header_value("If-None-Match"), etag)) return false;
  res.status = 304;
  return true;
}

}  // namespace strata::web
