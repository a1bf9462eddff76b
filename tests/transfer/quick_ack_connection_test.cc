// QuickAckConnection re-arms TCP_QUICKACK after each read: the kernel's own "interactive"
// state (pingpong mode, in which it delays ACKs) is forced first, and the option must read 1
// again right after the wrapped read returns.
#include "transfer/quick_ack_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <memory>

#include "support/loopback_tcp.h"

namespace strata {
namespace {

int QuickAck(int fd) {
  int v = -1;
  socklen_t len = sizeof(v);
  EXPECT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &v, &len), 0);
  return v;
}

void SetQuickAck(int fd, int v) { ASSERT_EQ(setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &v, sizeof(v)), 0); }

// Sends a few bytes from CLIENT and waits until they are readable on SERVER.
void Deliver(int client, int server) {
  ASSERT_EQ(send(client, "ping", 4, 0), 4);
  pollfd p{server, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 5000), 1);
}

TEST(QuickAckConnection, ReArmsQuickAckAfterEveryRead) {
  int client = -1, server = -1;
  ASSERT_NO_FATAL_FAILURE(test_support::ConnectLoopbackPair(&client, &server));
  // Owns SERVER from here (DcmTCPConnection closes it on destruction).
  auto conn = std::make_unique<QuickAckConnection>(server);
  EXPECT_EQ(QuickAck(server), 1) << "armed from the start";
  // The client sends without Nagle: its second "ping" must not wait for our (delayed) ACK.
  const int one = 1;
  ASSERT_EQ(setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
  char buf[16];
  // A round only proves something if the option still reads 0 once the bytes arrived (the
  // delayed-ACK timer firing first would clear pingpong mode too): count those rounds.
  int telling = 0;
  for (int round = 0; round < 50 && telling < 3; ++round) {
    SetQuickAck(server, 0);  // what the kernel does by itself on an interactive connection
    ASSERT_NO_FATAL_FAILURE(Deliver(client, server));
    if (QuickAck(server) == 0) ++telling;
    ASSERT_EQ(conn->read(buf, sizeof(buf)), 4);
    EXPECT_EQ(QuickAck(server), 1) << "round " << round;
  }
  EXPECT_GE(telling, 1) << "receiving alone re-armed the option in every round: this kernel cannot tell";
  // A read that returns nothing (peer closed) leaves the socket as it was and reports EOF.
  SetQuickAck(server, 0);
  close(client);
  EXPECT_EQ(conn->read(buf, sizeof(buf)), 0);
}

TEST(QuickAckTransportLayer, CreatesQuickAckConnectionsOnly) {
  QuickAckTransportLayer layer;
  int client = -1, server = -1;
  ASSERT_NO_FATAL_FAILURE(test_support::ConnectLoopbackPair(&client, &server));
  std::unique_ptr<DcmTransportConnection> tls(layer.createConnection(server, OFTrue));
  EXPECT_EQ(tls, nullptr) << "no TLS layer";
  std::unique_ptr<DcmTransportConnection> c(layer.createConnection(server, OFFalse));
  ASSERT_NE(dynamic_cast<QuickAckConnection*>(c.get()), nullptr);
  close(client);
}

}  // namespace
}  // namespace strata
