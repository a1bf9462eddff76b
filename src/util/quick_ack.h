// ArmQuickAck: ask the kernel to ACK what arrives on a TCP socket at once.
// Most DICOM peers (every DCMTK tool unless TCP_NODELAY=1 is in its environment) leave
// Nagle's algorithm on: each small message they send after a large one waits until our ACK
// comes, and Linux delays that ACK by up to 40 ms on an interactive connection. Linux clears
// TCP_QUICKACK again on its own, so callers re-arm it after every read of the socket.
#pragma once

namespace strata {

// Sets TCP_QUICKACK on FD (Linux; a no-op elsewhere). Best effort: a socket that is not
// TCP (or already closed) is left alone, the read that preceded the call stands.
void ArmQuickAck(int fd);

}  // namespace strata
