// DimseServer: Strata's DICOM upper-layer service (DCMTK). Accepts associations on a socket
// it binds itself (so the address is configurable and Nagle is off), runs each association on
// its own thread up to max_associations, and serves C-ECHO, C-STORE, C-FIND, C-MOVE, C-GET
// through the Archive. One structured log line per association.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "archive/archive.h"
#include "util/status.h"

namespace strata {

struct DimseOptions {
  std::string aet = "STRATA";
  std::string bind = "127.0.0.1";
  int port = 11112;
  int max_associations = 32;
  unsigned max_pdu = 131072;          // our receive PDU size (bytes)
  int idle_timeout_s = 60;            // an association silent this long is aborted
  std::vector<std::string> allowed_calling_aets;  // empty = anyone
  std::map<std::string, std::string> move_destinations;  // AE -> host:port
};

class DimseServer {
 public:
  DimseServer(Archive* archive, DimseOptions options);
  ~DimseServer();
  // Binds and listens; returns the bound port (useful with port 0).
  Result<int> Start();
  // Accepts associations until Stop() is called from another thread (or a signal handler
  // sets the flag passed to RequestStop).
  void Serve();
  void Stop() { stop_ = true; }
  int active_associations() const { return active_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> stop_{false};
  std::atomic<int> active_{0};
};

}  // namespace strata
