// HttpFront: cpp-httplib's Server with a front that never lets idle connections hold worker
// threads. Stock cpp-httplib (0.11) gives each accepted connection a pool thread for its
// whole life: 16 idle keep-alive clients, or 16 slowloris peers sending a header byte every
// few seconds, starve every other request. Here one event thread (epoll) holds every
// connection while it is idle or still sending its header, under a deadline (header_timeout
// from the first byte of a request, keep_alive_timeout between requests); only a connection
// whose whole header has arrived is handed to a worker, which runs exactly one request
// through cpp-httplib's own parser and handlers and gives the connection back. Requests with
// a body (STOW-RS) read it on their worker; a quarter of the workers are kept for the others,
// so slow uploads cannot starve queries and retrieves.
//
// HTTPS (FrontOptions::tls): the same front, with OpenSSL on each connection. The event thread
// runs the TLS handshake and reads the decrypted header without ever blocking (non-blocking
// socket, SSL_ERROR_WANT_READ waits on epoll), so a peer stalling mid-handshake costs no
// worker; the handshake counts against the header timeout.
#pragma once

#include <openssl/ssl.h>

#include <httplib.h>

#include <cstddef>
#include <memory>
#include <string>

namespace strata::web {

struct FrontOptions {
  int workers = 16;              // requests processed at once
  int header_timeout_s = 10;     // a request's header must be complete this long after its first byte
  int keep_alive_timeout_s = 5;  // an idle keep-alive connection is closed after this
  int keep_alive_max = 100;      // requests per connection
  int max_connections = 4096;    // open connections; more are closed at once
  int io_timeout_s = 60;         // one read or write of a body (a stalled transfer is dropped)
  size_t max_header_bytes = 64 * 1024;
  SSL_CTX* tls = nullptr;        // HTTPS when set (not owned: must outlive the front)
};

// Percent-encodes every '?' after the first in the target of the request line that starts at
// BUF[POS] (complete header assumed): QIDO wildcards ("PatientName=A?C") are often sent
// unencoded, and cpp-httplib refuses a target with two '?'. Returns the number escaped.
size_t EscapeExtraQueryMarks(std::string* buf, size_t pos);

class HttpFront : public httplib::Server {
 public:
  explicit HttpFront(FrontOptions options);
  ~HttpFront() override;
  // Starts the event and worker threads; call before listen_after_bind().
  void StartFront();
  // After stop() returned from listen_after_bind(): closes every connection, joins threads.
  void StopFront();

 private:
  bool process_and_close_socket(socket_t sock) override;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace strata::web
