// HttpClient: blocking HTTP/1.1 requests over libcurl, with a pool of reusable easy handles
// so that connections stay open between requests (keep-alive) and TLS sessions are reused.
//
// Contract:
// - Perform() may be called from many threads at once; each call borrows a handle from the
//   pool (creating one if none is idle) and gives it back afterwards.
// - One attempt per call. Any HTTP status is a successful Result; the caller interprets it
//   (and decides about retries). Transport failures (refused, reset, timed out, truncated)
//   are kUnavailable; TLS verification failures kIOError; a malformed URL kInvalidArgument.
// - A request body is sent with Content-Length, never chunked, and without
//   "Expect: 100-continue"; if curl has to resend it on a reused connection it rewinds it.
// - TLS always verifies the peer and host name (system CAs, plus options.ca_file if set).
// - Nagle is off (TCP_NODELAY) and TCP keep-alive probes are on.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "cold/sigv4_signer.h"  // HeaderList
#include "util/status.h"

namespace strata {

struct HttpClientOptions {
  int connect_timeout_ms = 5000;
  int timeout_ms = 30000;        // whole request, connect included
  std::string ca_file;           // extra CA bundle (PEM); empty = system CAs only
  size_t max_idle_handles = 16;  // handles kept for reuse; more may exist while busy
};

struct HttpRequest {
  std::string method = "GET";    // GET, HEAD, PUT, POST, DELETE
  std::string url;               // fully encoded
  HeaderList headers;            // sent as given (a "Host" header overrides curl's)
  std::string_view body;         // PUT/POST body; not owned, must outlive Perform()
  size_t expected_response_bytes = 0;  // capacity hint for the response body
};

struct HttpResponse {
  long status = 0;
  HeaderList headers;  // names lowercased, values trimmed
  std::string body;

  // Value of header LOWER_NAME, or nullptr.
  const std::string* Header(std::string_view lower_name) const;
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Result<HttpResponse> Perform(const HttpRequest& request);

  const HttpClientOptions& options() const { return options_; }
  // New TCP connections opened so far (a measure of keep-alive working).
  uint64_t connections_opened() const { return connections_opened_.load(); }
  size_t idle_handles() const;

 private:
  void* Acquire();
  void Release(void* handle);

  HttpClientOptions options_;
  mutable std::mutex mu_;
  std::vector<void*> idle_;  // CURL* handles, guarded by mu_
  std::atomic<uint64_t> connections_opened_{0};
};

}  // namespace strata
