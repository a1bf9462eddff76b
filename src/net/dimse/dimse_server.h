// DimseServer: Strata's DICOM upper-layer service (DCMTK). Binds its own socket (IPv4, IPv6,
// or dual-stack with "::"; Nagle off), and its accept loop never waits on a peer: each
// connection gets its own thread at once, which waits for the A-ASSOCIATE-RQ (bounded by the
// handshake timeout), negotiates and serves C-ECHO, C-STORE, C-FIND, C-MOVE and C-GET through
// the Archive. Admission (admission.h) bounds connections and associations overall, per
// address and per calling AE. With dimse.tls_port a second port speaks DICOM TLS (the same
// services; tls_acceptor.h). One structured log line per association.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "archive/archive.h"
#include "net/dimse/dimse_options.h"
#include "util/status.h"

namespace strata {

struct ServiceEnv;

class DimseServer {
 public:
  DimseServer(Archive* archive, DimseOptions options);
  ~DimseServer();  // waits for the association threads
  // Binds and listens; returns the bound plain port (useful with port 0; 0 when the plain
  // port is off, DimseOptions::plain).
  Result<int> Start();
  // Accepts connections until Stop() is called from another thread.
  void Serve();
  void Stop() { stop_ = true; }
  int active_connections() const { return active_; }
  // The bound TLS port after Start() (0: no TLS port).
  int tls_port() const { return tls_port_; }

 private:
  struct Impl;
  void Accept(const ServiceEnv& env, bool tls);  // one connection waiting on the plain or TLS port
  std::unique_ptr<Impl> impl_;
  int tls_port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> active_{0};
};

}  // namespace strata
