// Content coding of DICOM JSON answers (QIDO-RS, /metadata, STOW-RS responses).
// cpp-httplib compresses text/*, application/json and JavaScript itself when the client
// accepts it, but not application/dicom+json — the largest bodies the server sends (the
// metadata of a 360-slice study is ~600 KB and compresses ~50x). Called from the server's
// post-routing hook on every response; thread-safe (no state).
#pragma once

#include <httplib.h>

#include <string>

namespace strata::web {

// True when ACCEPT_ENCODING (an Accept-Encoding header value) allows gzip: a "gzip" or "*"
// coding whose q-value is not 0 (RFC 9110 12.5.3).
bool AcceptsGzip(const std::string& accept_encoding);

// Replaces RES's body by its gzip encoding and sets Content-Encoding (and Vary) when the body
// is DICOM JSON of at least 1 KiB, has no content coding yet and REQ accepts gzip. The ETags
// Strata sends are weak, so they stay valid for the encoded form. On a zlib failure the body
// is left as it was (served unencoded).
void GzipDicomJson(const httplib::Request& req, httplib::Response& res);

}  // namespace strata::web
