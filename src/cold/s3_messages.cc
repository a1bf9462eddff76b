#include "cold/s3_messages.h"

#include <charconv>
#include <cstring>
#include <ctime>

#include "cold/xml_reader.h"

namespace strata {
namespace {

Result<XmlElement> ParseRoot(std::string_view body, std::string_view expected_root) {
  auto doc = ParseXml(body);
  if (!doc.ok()) {
    return doc.status().WithContext("S3 " + std::string(expected_root) + " response");
  }
  if (doc->name != expected_root) {
    return Status::Corruption("S3 response: expected <" + std::string(expected_root) +
                              ">, got <" + doc->name + ">");
  }
  return doc;
}

bool ParseBool(const std::string& s) { return s == "true" || s == "True" || s == "TRUE"; }

bool ParseU64(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::optional<S3Error> ParseS3Error(std::string_view body) {
  auto doc = ParseXml(body);
  if (!doc.ok() || doc->name != "Error") return std::nullopt;
  S3Error e;
  e.code = doc->ChildText("Code");
  e.message = doc->ChildText("Message");
  e.request_id = doc->ChildText("RequestId");
  return e;
}

Result<S3ListPage> ParseListObjectsV2(std::string_view body) {
  STRATA_ASSIGN_OR_RETURN(XmlElement doc, ParseRoot(body, "ListBucketResult"));
  S3ListPage page;
  for (const XmlElement* c : doc.Children("Contents")) {
    ObjectInfo info;
    info.key = c->ChildText("Key");
    if (info.key.empty()) return Status::Corruption("S3 ListBucketResult: <Contents> without <Key>");
    if (!ParseU64(c->ChildText("Size"), &info.size)) {
      return Status::Corruption("S3 ListBucketResult: bad <Size> for " + info.key);
    }
    info.etag = c->ChildText("ETag");
    info.modified_ms = ParseIso8601Ms(c->ChildText("LastModified")).value_or(0);
    page.objects.push_back(std::move(info));
  }
  page.truncated = ParseBool(doc.ChildText("IsTruncated"));
  page.next_continuation_token = doc.ChildText("NextContinuationToken");
  if (page.truncated && page.next_continuation_token.empty()) {
    return Status::Corruption("S3 ListBucketResult: truncated without NextContinuationToken");
  }
  return page;
}

Result<std::string> ParseInitiateMultipartUpload(std::string_view body) {
  STRATA_ASSIGN_OR_RETURN(XmlElement doc, ParseRoot(body, "InitiateMultipartUploadResult"));
  std::string id = doc.ChildText("UploadId");
  if (id.empty()) return Status::Corruption("S3 InitiateMultipartUploadResult without UploadId");
  return id;
}

Result<S3UploadsPage> ParseListMultipartUploads(std::string_view body) {
  STRATA_ASSIGN_OR_RETURN(XmlElement doc, ParseRoot(body, "ListMultipartUploadsResult"));
  S3UploadsPage page;
  for (const XmlElement* u : doc.Children("Upload")) {
    PendingUpload p;
    p.key = u->ChildText("Key");
    p.upload_id = u->ChildText("UploadId");
    if (p.key.empty() || p.upload_id.empty()) {
      return Status::Corruption("S3 ListMultipartUploadsResult: <Upload> without Key/UploadId");
    }
    p.initiated_ms = ParseIso8601Ms(u->ChildText("Initiated")).value_or(0);
    page.uploads.push_back(std::move(p));
  }
  page.truncated = ParseBool(doc.ChildText("IsTruncated"));
  page.next_key_marker = doc.ChildText("NextKeyMarker");
  page.next_upload_id_marker = doc.ChildText("NextUploadIdMarker");
  if (page.truncated && page.next_key_marker.empty() && page.next_upload_id_marker.empty()) {
    return Status::Corruption("S3 ListMultipartUploadsResult: truncated without markers");
  }
  return page;
}

std::string BuildCompleteMultipartUpload(const std::vector<std::pair<int, std::string>>& parts) {
  std::string out = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (const auto& [number, etag] : parts) {
    out += "<Part><PartNumber>" + std::to_string(number) + "</PartNumber><ETag>" +
           XmlEscape(etag) + "</ETag></Part>";
  }
  out += "</CompleteMultipartUpload>";
  return out;
}

std::optional<int64_t> ParseIso8601Ms(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fff...]Z
  if (s.size() < 20) return std::nullopt;
  std::tm tm{};
  std::string head(s.substr(0, 19));
  const char* end = strptime(head.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  int64_t ms = 0;
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (digits < 3) ms = ms * 10 + (s[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 3; ++digits) ms *= 10;
  }
  if (i + 1 != s.size() || s[i] != 'Z') return std::nullopt;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

std::optional<int64_t> ParseHttpDateMs(std::string_view s) {
  std::tm tm{};
  std::string str(s);
  const char* end = strptime(str.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

}  // namespace strata
