// HTTP validators for DICOMweb resources built from catalog records (RFC 9110 8.8, 13.1.2):
// a weak entity tag over what the representation depends on (each instance's SOP Instance
// UID, checksum, stored syntax and pack entry, plus the request's variant: route, negotiated
// types, base URL), Last-Modified from the newest instance's reception, and
// `Cache-Control: private, no-cache` so that a viewer keeps what it downloaded and revalidates
// it with If-None-Match (a 304 costs one catalog lookup, no instance read). The tag is weak
// because multipart bodies carry a fresh boundary each time. If-Modified-Since is not honoured:
// a migration changes the bytes served "as stored" without a newer reception time.
#pragma once

#include <string>
#include <vector>

#include <httplib.h>

#include "model/records.h"

namespace strata::web {

// W/"<16 hex>" of RECORDS and VARIANT.
std::string RecordsEtag(const std::vector<InstanceRecord>& records, const std::string& variant);
// IMF-fixdate of a unix time in milliseconds ("Sun, 06 Nov 1994 08:49:37 GMT").
std::string HttpDate(int64_t unix_ms);
// True when an If-None-Match of IF_NONE_MATCH ("*" or a list of tags) matches ETAG (weak
// comparison).
bool EtagMatches(const std::string& if_none_match, const std::string& etag);

// Sets ETag, Last-Modified and Cache-Control on RES; when the request's If-None-Match
// matches, also status 304 (no body) and returns true: the handler is done.
bool AnswerNotModified(const httplib::Request& req, httplib::Response& res,
                       const std::vector<InstanceRecord>& records, const std::string& variant);

}  // namespace strata::web
