#include "net/dimse/tls_acceptor.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <mutex>

#include "transfer/tls_transport.h"

namespace strata {
namespace {

void SetSocketTimeouts(int fd, int64_t ms) {
  timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

std::mutex& ParkedMutex() {
  static std::mutex mu;
  return mu;
}

std::map<int, std::unique_ptr<DcmTransportConnection>>& Parked() {
  static std::map<int, std::unique_ptr<DcmTransportConnection>> parked;
  return parked;
}

}  // namespace

Result<TlsAccepted> AcceptTls(DcmTLSTransportLayer* layer, int fd, int timeout_ms, size_t max_rq_bytes,
                              int idle_timeout_s) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::unique_ptr<DcmTransportConnection> tls(layer->createConnection(fd, OFTrue));
  if (!tls) {
    close(fd);
    return Status::Internal("cannot create a TLS connection");
  }
  // After createConnection: DCMTK's connection constructor sets the socket's timeouts to
  // dcmSocketReceiveTimeout (the idle timeout), which would let a silent peer hold the
  // handshake that long.
  SetSocketTimeouts(fd, timeout_ms);
  // From here on TLS owns the socket (its destructor closes it).
  if (OFCondition c = tls->serverSideHandshake(); c.bad())
    return Status::Unavailable(std::string("TLS handshake failed: ") + c.text());
  TlsAccepted out;
  out.identities = PeerIdentities(tls.get());
  std::string rq(6, '\0');
  size_t have = 0;
  while (have < rq.size()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return Status::Unavailable("no complete A-ASSOCIATE-RQ within the handshake timeout");
    SetSocketTimeouts(fd, left);
    const ssize_t n = tls->read(rq.data() + have, rq.size() - have);
    if (n <= 0) return Status::Unavailable("peer closed the TLS connection before A-ASSOCIATE-RQ");
    have += static_cast<size_t>(n);
    if (have >= 6 && rq.size() == 6) {
      if (static_cast<unsigned char>(rq[0]) != 0x01) return Status::InvalidArgument("first PDU is not an A-ASSOCIATE-RQ");
      const uint32_t len = (static_cast<uint32_t>(static_cast<unsigned char>(rq[2])) << 24) |
                           (static_cast<unsigned char>(rq[3]) << 16) | (static_cast<unsigned char>(rq[4]) << 8) |
                           static_cast<unsigned char>(rq[5]);
      if (len > max_rq_bytes)
        return Status::InvalidArgument("A-ASSOCIATE-RQ of " + std::to_string(len) + " bytes (at most " +
                                       std::to_string(max_rq_bytes) + ")");
      rq.resize(6 + len);
    }
  }
  SetSocketTimeouts(fd, int64_t{idle_timeout_s} * 1000);
  out.connection = std::make_unique<WrappedConnection>(fd, std::move(tls), std::move(rq), /*handshake_done=*/true);
  return out;
}

void HandOver(int fd, std::unique_ptr<DcmTransportConnection> conn) {
  std::lock_guard<std::mutex> lk(ParkedMutex());
  Parked()[fd] = std::move(conn);
}

std::unique_ptr<DcmTransportConnection> TakeHandedOver(int fd) {
  std::lock_guard<std::mutex> lk(ParkedMutex());
  auto it = Parked().find(fd);
  if (it == Parked().end()) return nullptr;
  auto conn = std::move(it->second);
  Parked().erase(it);
  return conn;
}

}  // namespace strata
