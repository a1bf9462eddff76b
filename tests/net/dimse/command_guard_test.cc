#include "net/dimse/command_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/dcmtrans.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>

#include "support/loopback_tcp.h"
#include "transfer/tls_transport.h"

namespace strata {
namespace {

std::string Pdu(uint8_t type, const std::string& body) {
  std::string s = {static_cast<char>(type), '\0'};
  for (int sh = 24; sh >= 0; sh -= 8) s += static_cast<char>((body.size() >> sh) & 0xff);
  return s + body;
}

std::string Pdv(bool command, bool last, const std::string& data) {
  const uint32_t len = static_cast<uint32_t>(data.size() + 2);
  std::string s;
  for (int sh = 24; sh >= 0; sh -= 8) s += static_cast<char>((len >> sh) & 0xff);
  s += '\x01';
  s += static_cast<char>((command ? 1 : 0) | (last ? 2 : 0));
  return s + data;
}

const std::string kItem("\xfe\xff\x00\xe0\xff\xff\xff\xff", 8);

bool FeedAll(CommandGuard* g, const std::string& s, size_t chunk) {
  for (size_t i = 0; i < s.size(); i += chunk) {
    const size_t n = std::min(chunk, s.size() - i);
    if (!g->Feed(reinterpret_cast<const uint8_t*>(s.data() + i), n)) return false;
  }
  return true;
}

TEST(CommandGuard, NormalTrafficPasses) {
  const std::string stream = Pdu(0x01, std::string(200, 'r')) +
                             Pdu(0x04, Pdv(true, true, std::string(120, 'c'))) +
                             Pdu(0x04, Pdv(false, false, kItem + kItem + std::string(5000, 'd'))) +  // data: not counted
                             Pdu(0x04, Pdv(false, true, std::string(100, 'd'))) + Pdu(0x05, std::string(4, '\0'));
  for (size_t chunk : {1u, 7u, 4096u}) {
    CommandGuard g(1024, 2);
    EXPECT_TRUE(FeedAll(&g, stream, chunk)) << chunk << ": " << g.error();
  }
}

TEST(CommandGuard, NestedCommandRefusedEvenAcrossFragments) {
  std::string items;
  for (int i = 0; i < 20; ++i) items += kItem;
  // The item tags straddle PDV and PDU boundaries.
  const std::string stream = Pdu(0x04, Pdv(true, false, items.substr(0, 13))) +
                             Pdu(0x04, Pdv(true, false, items.substr(13, 50)) + Pdv(true, true, items.substr(63)));
  CommandGuard g(1 << 20, 16);
  EXPECT_FALSE(FeedAll(&g, stream, 3));
  EXPECT_NE(g.error().find("sequence items"), std::string::npos);
}

TEST(CommandGuard, CountsResetPerCommand) {
  std::string stream;
  for (int i = 0; i < 50; ++i) stream += Pdu(0x04, Pdv(true, true, kItem + std::string(100, 'c')));
  CommandGuard g(1024, 1);
  EXPECT_TRUE(FeedAll(&g, stream, 64)) << g.error();
}

TEST(CommandGuard, OversizedCommandRefused) {
  std::string stream;
  for (int i = 0; i < 10; ++i) stream += Pdu(0x04, Pdv(true, false, std::string(1000, 'c')));
  CommandGuard g(5000, 16);
  EXPECT_FALSE(FeedAll(&g, stream, 512));
  EXPECT_NE(g.error().find("larger than"), std::string::npos);
}

TEST(CommandGuard, LyingPdvLengthRefused) {
  std::string body = Pdv(true, true, std::string(10, 'c'));
  body[3] = '\x7f';  // PDV claims more than its PDU holds
  CommandGuard g(1024, 16);
  EXPECT_FALSE(FeedAll(&g, Pdu(0x04, body), 100));
}

// Server associations (and C-MOVE sub-associations, opened on the same network) re-arm
// TCP_QUICKACK after every read, plain or TLS (the wrapped connection does it; the kernel's
// re-arming itself is tested in tests/transfer/quick_ack_connection_test.cc).
int QuickAck(int fd) {
  int v = -1;
  socklen_t len = sizeof(v);
  EXPECT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &v, &len), 0);
  return v;
}

TEST(GuardedTransportLayer, ConnectionsReArmQuickAckAfterEveryRead) {
  int client = -1, server = -1;
  ASSERT_NO_FATAL_FAILURE(test_support::ConnectLoopbackPair(&client, &server));
  GuardedTransportLayer layer(64 * 1024, 16);
  std::unique_ptr<DcmTransportConnection> c(layer.createConnection(server, OFFalse));  // owns SERVER
  ASSERT_NE(c, nullptr);
  const int one = 1, zero = 0;
  ASSERT_EQ(setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
  // An A-ASSOCIATE-RQ header split over reads: the guard lets non-P-DATA bytes through.
  const std::string bytes = Pdu(0x01, std::string(20, 'a'));
  char buf[64];
  for (size_t i = 0; i < bytes.size(); i += 13) {
    ASSERT_EQ(setsockopt(server, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof(zero)), 0);
    const size_t k = std::min<size_t>(13, bytes.size() - i);
    ASSERT_EQ(send(client, bytes.data() + i, k, 0), static_cast<ssize_t>(k));
    pollfd p{server, POLLIN, 0};
    ASSERT_EQ(poll(&p, 1, 5000), 1);
    ASSERT_EQ(c->read(buf, sizeof(buf)), static_cast<ssize_t>(k));
    EXPECT_EQ(QuickAck(server), 1) << "after read at " << i;
  }
  close(client);
}

TEST(GuardedTransportLayer, PlainConnectionsAreWrappedAndTlsNeedsALayer) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  GuardedTransportLayer layer(64 * 1024, 16);
  std::unique_ptr<DcmTransportConnection> c(layer.createConnection(fds[0], OFFalse));  // owns fds[0]
  EXPECT_NE(dynamic_cast<WrappedConnection*>(c.get()), nullptr);
  EXPECT_TRUE(c->isTransparentConnection());  // plain TCP underneath
  // Without a TLS layer a secure connection cannot be made (no silent fallback to plain TCP).
  EXPECT_EQ(layer.createConnection(fds[1], OFTrue), nullptr);
  close(fds[1]);
}

}  // namespace
}  // namespace strata
