#include "support/loopback_tcp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace strata::test_support {
namespace {

void Connect(int lfd, int* client, int* server) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(listen(lfd, 1), 0);
  socklen_t len = sizeof(a);
  ASSERT_EQ(getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  *client = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(*client, 0);
  ASSERT_EQ(connect(*client, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  *server = accept(lfd, nullptr, nullptr);
  ASSERT_GE(*server, 0);
}

}  // namespace

void ConnectLoopbackPair(int* client, int* server) {
  *client = *server = -1;
  const int lfd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(lfd, 0);
  Connect(lfd, client, server);
  close(lfd);  // on success and on failure alike
  if (::testing::Test::HasFatalFailure()) {
    if (*client >= 0) close(*client);
    *client = -1;
  }
}

}  // namespace strata::test_support
