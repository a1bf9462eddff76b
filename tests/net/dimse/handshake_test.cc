#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "net/dimse/association.h"

namespace strata {
namespace {

struct Pair {
  int a = -1, b = -1;
  Pair() {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    a = fds[0];
    b = fds[1];
  }
  ~Pair() {
    close(a);
    close(b);
  }
};

std::string RqHeader(uint32_t len) {
  std::string h = {'\x01', '\x00'};
  for (int s = 24; s >= 0; s -= 8) h += static_cast<char>((len >> s) & 0xff);
  return h;
}

TEST(AwaitAssociateRq, SilentPeerTimesOut) {
  Pair p;
  const auto t0 = std::chrono::steady_clock::now();
  Status s = AwaitAssociateRq(p.a, 200, 65536);
  EXPECT_FALSE(s.ok());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(190));
}

TEST(AwaitAssociateRq, PartialPduTimesOut) {
  Pair p;
  std::string h = RqHeader(100) + std::string(50, 'x');
  ASSERT_EQ(write(p.b, h.data(), h.size()), static_cast<ssize_t>(h.size()));
  EXPECT_FALSE(AwaitAssociateRq(p.a, 200, 65536).ok());
}

TEST(AwaitAssociateRq, CompletePduArrivingInPieces) {
  Pair p;
  std::thread writer([&] {
    std::string h = RqHeader(100);
    (void)!write(p.b, h.data(), h.size());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::string body(100, 'x');
    (void)!write(p.b, body.data(), body.size());
  });
  EXPECT_TRUE(AwaitAssociateRq(p.a, 2000, 65536).ok());
  writer.join();
  char buf[6];
  EXPECT_EQ(read(p.a, buf, 6), 6);  // only peeked: DCMTK still reads it all
}

TEST(AwaitAssociateRq, RefusesOtherPdusAndHugeOnes) {
  {
    Pair p;
    std::string h("\x04\x00\x00\x00\x00\x02xy", 8);
    (void)!write(p.b, h.data(), h.size());
    EXPECT_EQ(AwaitAssociateRq(p.a, 500, 65536).code(), Status::Code::kInvalidArgument);
  }
  {
    Pair p;
    std::string h = RqHeader(1u << 20);
    (void)!write(p.b, h.data(), h.size());
    EXPECT_EQ(AwaitAssociateRq(p.a, 500, 65536).code(), Status::Code::kInvalidArgument);
  }
  {
    Pair p;
    close(p.b);
    p.b = socket(AF_UNIX, SOCK_STREAM, 0);  // keep the destructor's close harmless
    EXPECT_FALSE(AwaitAssociateRq(p.a, 500, 65536).ok());
  }
}

}  // namespace
}  // namespace strata
