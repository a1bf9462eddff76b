#include "transfer/quick_ack_connection.h"

#include "util/quick_ack.h"

namespace strata {

// Armed from the start too: the A-ASSOCIATE exchange is already a small message after a read.
QuickAckConnection::QuickAckConnection(DcmNativeSocketType sock) : DcmTCPConnection(sock) { ArmQuickAck(sock); }

ssize_t QuickAckConnection::read(void* buf, size_t nbyte) {
  const ssize_t n = DcmTCPConnection::read(buf, nbyte);
  if (n > 0) ArmQuickAck(getSocket());
  return n;
}

DcmTransportConnection* QuickAckTransportLayer::createConnection(DcmNativeSocketType sock, OFBool use_secure_layer) {
  if (use_secure_layer) return nullptr;
  return new QuickAckConnection(sock);
}

}  // namespace strata
