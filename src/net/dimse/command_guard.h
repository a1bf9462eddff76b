// CommandGuard: bounds every DIMSE command set a peer sends before DCMTK parses it.
// DIMSE_receiveCommand parses the command set in memory, recursing once per nested sequence
// (a command set has no business nesting any), and puts no bound on its size: a 1 MB command
// of nested undefined-length sequences overflows the association thread's stack. DCMTK reads
// the socket through a DcmTransportConnection, so GuardedTransportLayer hands it connections
// whose read() follows the PDU / PDV framing of the incoming stream and fails (the
// association is dropped, with a log line) once one command set passes the bounds.
// The connections are WrappedConnections (transfer/tls_transport.h: TCP_QUICKACK re-armed);
// under them is plain TCP, a TLS connection the TLS port handed over (tls_acceptor.h), or,
// for sub-associations to TLS destinations, a new TLS client connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/dcmlayer.h>

namespace strata {

// The framing follower, fed with the raw bytes a peer sends (unit-testable on its own).
class CommandGuard {
 public:
  CommandGuard(size_t max_command_bytes, int max_command_items)
      : max_bytes_(max_command_bytes), max_items_(max_command_items) {}
  // False once a command set passed a bound; error() says which.
  bool Feed(const uint8_t* p, size_t n);
  const std::string& error() const { return error_; }

 private:
  enum class State { kPduHeader, kPduBody, kPdvHeader, kPdvData, kSkip };
  bool Fail(std::string e) {
    error_ = std::move(e);
    return false;
  }
  size_t max_bytes_;
  int max_items_;
  State state_ = State::kPduHeader;
  uint8_t hdr_[6] = {0};
  size_t hdr_len_ = 0;
  uint64_t pdu_left_ = 0, pdv_left_ = 0;
  bool pdv_command_ = false, pdv_last_ = false;
  uint64_t command_bytes_ = 0;  // of the command set being received
  int command_items_ = 0;
  uint32_t window_ = 0;  // last four command bytes (item tags may straddle fragments)
  std::string error_;
};

// Creates the guarded connections. TLS (not owned, may be null) serves the associations we
// request with the secure layer; without it such a request fails.
class GuardedTransportLayer : public DcmTransportLayer {
 public:
  GuardedTransportLayer(size_t max_command_bytes, int max_command_items, DcmTransportLayer* tls = nullptr)
      : max_bytes_(max_command_bytes), max_items_(max_command_items), tls_(tls) {}
  DcmTransportConnection* createConnection(DcmNativeSocketType sock, OFBool use_secure_layer) override;

 private:
  size_t max_bytes_;
  int max_items_;
  DcmTransportLayer* tls_;
};

}  // namespace strata
