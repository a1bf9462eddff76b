// The server side of DICOM TLS. A connection on the TLS port is handled on its own thread like
// a plain one, but DCMTK cannot peek at encrypted bytes, so AcceptTls does, outside the
// hand-over lock, what AwaitAssociateRq does for a plain socket: the TLS handshake and the
// reading of the whole A-ASSOCIATE-RQ, each bounded by the handshake timeout. The connection
// (TLS established, request buffered) is then parked with HandOver; GuardedTransportLayer
// takes it back (TakeHandedOver) when DCMTK asks for the connection of that socket, so the
// rest of the association (negotiation, command guard, services) is the plain path's.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/dcmtls/tlslayer.h>

#include "util/status.h"

namespace strata {

struct TlsAccepted {
  std::unique_ptr<DcmTransportConnection> connection;  // owns the socket
  std::vector<std::string> identities;                 // of the verified client certificate
};

// Takes ownership of FD (closed on failure). TIMEOUT_MS bounds the handshake and the request;
// IDLE_TIMEOUT_S is set on the socket afterwards. Unavailable / InvalidArgument say why.
Result<TlsAccepted> AcceptTls(DcmTLSTransportLayer* layer, int fd, int timeout_ms, size_t max_rq_bytes,
                              int idle_timeout_s);

// Parks CONN for socket FD until TakeHandedOver(FD). Thread-safe.
void HandOver(int fd, std::unique_ptr<DcmTransportConnection> conn);
// The connection parked for FD, or nullptr.
std::unique_ptr<DcmTransportConnection> TakeHandedOver(int fd);

}  // namespace strata
