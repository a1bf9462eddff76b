// One structured log line per HTTP request (spdlog):
//   event=http method=GET path=/dicomweb/studies status=200 bytes=1234 ms=3.1 peer=127.0.0.1:50312
// Query strings are not logged (QIDO parameters carry patient names and IDs). The counters
// are per thread: httplib serves a request, including a streamed body, on one worker thread.
#pragma once

#include <cstddef>

#include <httplib.h>

namespace strata::web {

// Call at the start of a request (pre-routing).
void BeginRequestLog();
// Streamed bodies (chunked content providers) report what they wrote, and whether they gave up.
void AddStreamedBytes(size_t n);
void MarkStreamAborted();
// Writes the line (httplib's logger, after the response is written).
void EndRequestLog(const httplib::Request& req, const httplib::Response& res);

}  // namespace strata::web
