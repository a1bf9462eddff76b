// HTTP plumbing shared by the DICOMweb handlers: Status -> HTTP status code, short JSON error
// bodies, Accept header negotiation (RFC 9110 media ranges with parameters and q-values, plus
// the `accept` query parameter PS3.18 allows in URIs), the server's base URL as the client
// addressed it, and UID path segments (validated before they reach the catalog).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <httplib.h>

#include "util/status.h"

namespace strata::web {

// 400 kInvalidArgument, 404 kNotFound, 409 kConflict/kAlreadyExists, 503 kUnavailable,
// 507 kNoSpace, 500 for the rest.
int HttpStatusFor(const Status& s);
// Sets STATUS and a body {"error": MESSAGE, "status": STATUS} (application/json).
void SendError(httplib::Response& res, int status, const std::string& message);

// Reads and drops a request body (up to kMaxDrainBytes; past that the connection is dropped)
// before the request is refused, so that a client still sending reads the answer instead of a
// reset connection. A multipart/form-data body is only readable through cpp-httplib's form
// reader (its plain reader is unset then), so it is drained through that.
inline constexpr size_t kMaxDrainBytes = 64u << 20;
void DrainBody(const httplib::Request& req, const httplib::ContentReader& content_reader);
void SendStatus(httplib::Response& res, const Status& s);
void SendJson(httplib::Response& res, const std::string& body, const char* content_type = "application/json");

struct MediaRange {
  std::string type;     // lower case, e.g. "multipart/related", "image/*", "*/*"
  std::map<std::string, std::string> params;  // lower-case names, unquoted values (q removed)
  double q = 1.0;

  // "image/*" matches "image/png"; "*/*" matches anything.
  bool Matches(const std::string& media_type) const;
  std::string Param(const std::string& name) const;
};

// Media ranges of an Accept header value, best first (stable for equal q), q=0 dropped.
// An empty header gives one "*/*".
std::vector<MediaRange> ParseAccept(const std::string& header);
// The Accept of a request: the `accept` query parameter when present, else the header.
std::vector<MediaRange> RequestAccept(const httplib::Request& req);
// The first of CANDIDATES (exact media types, in the server's order of preference) that the
// client accepts, honouring the client's q order; nullopt when none is acceptable.
std::optional<std::string> ChooseMediaType(const std::vector<MediaRange>& accept,
                                           const std::vector<std::string>& candidates);
// Parses a Content-Type value into type (lower case) and parameters.
MediaRange ParseContentType(const std::string& value);

// "http://HOST" from the Host header (the address the client used).
std::string BaseUrl(const httplib::Request& req);
// A fresh random multipart boundary.
std::string NewBoundary();
// An error from reading an instance the catalog lists: its bytes missing from the hot tier or
// the cold store is the storage being unavailable (503), not an unknown resource (404).
Status ReadFailure(const Status& s);
// Validates a UID taken from the URL (InvalidArgument -> 400).
Status CheckUid(const std::string& uid, const char* what);
// Parses a non-negative integer query parameter; nullopt when absent.
Result<std::optional<uint64_t>> UintParam(const httplib::Request& req, const std::string& name);

}  // namespace strata::web
