// ScuAssociation against the in-process SCP: how Open classifies failures, and that our
// sockets run without Nagle whatever the environment said.
#include "transfer/scu_association.h"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "transfer/fake_store_scp.h"

namespace strata {
namespace {

using testing::FakeStoreScp;

AssociationRequest CtRequest(int port, const std::string& sop_class = "1.2.840.10008.5.1.4.1.1.2") {
  AssociationRequest r;
  r.node = {"127.0.0.1", port};
  r.timeout_s = 10;
  r.contexts = {{1, sop_class, {"1.2.840.10008.1.2.1"}, false}, {3, sop_class, {"1.2.840.10008.1.2.4.80"}, false}};
  return r;
}

// Our TCP sockets whose peer is PORT, and how many of them have TCP_NODELAY on.
std::pair<int, int> SocketsToPort(int port) {
  int total = 0, nodelay = 0;
  DIR* d = opendir("/proc/self/fd");
  while (dirent* e = readdir(d)) {
    const int fd = atoi(e->d_name);
    sockaddr_in peer{};
    socklen_t len = sizeof(peer);
    if (fd <= 2 || getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) continue;
    if (peer.sin_family != AF_INET || ntohs(peer.sin_port) != port) continue;
    int on = 0;
    socklen_t olen = sizeof(on);
    getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &olen);
    ++total;
    nodelay += on ? 1 : 0;
  }
  closedir(d);
  return {total, nodelay};
}

TEST(ScuAssociation, NagleIsOffEvenWhenTheEnvironmentSaysNothing) {
  FakeStoreScp scp;
  unsetenv("TCP_NODELAY");
  auto a = ScuAssociation::Open(CtRequest(scp.port()));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto [sockets, nodelay] = SocketsToPort(scp.port());
  EXPECT_EQ(sockets, 1);
  EXPECT_EQ(nodelay, 1);
  EXPECT_TRUE((*a)->Release().ok());
}

TEST(ScuAssociation, KnowsWhatWasAcceptedWithWhichSyntax) {
  FakeStoreScp scp;
  auto a = ScuAssociation::Open(CtRequest(scp.port()));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ((*a)->accepted().size(), 2u);
  EXPECT_EQ((*a)->FindContext("1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.1.2.4.80"), 3);
  EXPECT_EQ((*a)->FindContext("1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.1.2"), 0);
  EXPECT_EQ((*a)->SyntaxOf(1), "1.2.840.10008.1.2.1");
  EXPECT_TRUE((*a)->usable());
}

TEST(ScuAssociation, OpenClassifiesFailures) {
  auto dead = ScuAssociation::Open(CtRequest(testing::UnusedPort()));
  ASSERT_FALSE(dead.ok());
  EXPECT_EQ(dead.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(dead.status().message().find("cannot connect"), std::string::npos);
  FakeStoreScp scp;  // accepts CT, not MR: it rejects an association that offers only MR
  auto none = ScuAssociation::Open(CtRequest(scp.port(), "1.2.840.10008.5.1.4.1.1.4"));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Status::Code::kNotFound) << none.status().ToString();
}

}  // namespace
}  // namespace strata
