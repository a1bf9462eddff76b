#include "transfer/quick_ack_connection.h"

#include <memory>

#include "transfer/tls_transport.h"
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
  if (!use_secure_layer) return new QuickAckConnection(sock);
  if (!tls_) return nullptr;
  DcmTransportConnection* c = tls_->createConnection(sock, OFTrue);
  if (!c) return nullptr;
  return new WrappedConnection(sock, std::unique_ptr<DcmTransportConnection>(c));
}

}  // namespace strata
