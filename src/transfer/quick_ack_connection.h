// QuickAckConnection: DCMTK's TCP transport connection, re-arming TCP_QUICKACK (util/quick_ack.h)
// after every read, so a peer that leaves Nagle on never waits for our delayed ACK.
// QuickAckTransportLayer hands DCMTK such connections: set it on a T_ASC_Network with
// ASC_setTransportLayer and every association of that network (accepted or requested) uses one.
// The server's GuardedConnection (net/dimse/command_guard.h) derives from QuickAckConnection.
#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/dcmlayer.h>
#include <dcmtk/dcmnet/dcmtrans.h>

namespace strata {

class QuickAckConnection : public DcmTCPConnection {
 public:
  explicit QuickAckConnection(DcmNativeSocketType sock);
  ssize_t read(void* buf, size_t nbyte) override;
};

// TLS (not owned, may be null: then plain only) makes the secure connections (tls_transport.h).
class QuickAckTransportLayer : public DcmTransportLayer {
 public:
  explicit QuickAckTransportLayer(DcmTransportLayer* tls = nullptr) : tls_(tls) {}
  DcmTransportConnection* createConnection(DcmNativeSocketType sock, OFBool use_secure_layer) override;

 private:
  DcmTransportLayer* tls_;
};

}  // namespace strata
