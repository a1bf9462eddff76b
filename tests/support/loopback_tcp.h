// Test support: a connected TCP pair over 127.0.0.1, for tests of socket options and
// transport wrappers that need a real TCP connection (a socketpair is AF_UNIX).
#pragma once

namespace strata::test_support {

// Listens on an ephemeral loopback port, connects to it and accepts: *CLIENT is the
// connecting end, *SERVER the accepted one; the caller owns (closes) both. Reports a fatal
// GoogleTest failure when any step fails: call it under ASSERT_NO_FATAL_FAILURE.
void ConnectLoopbackPair(int* client, int* server);

}  // namespace strata::test_support
