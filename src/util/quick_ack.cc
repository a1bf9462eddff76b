#include "util/quick_ack.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace strata {

void ArmQuickAck(int fd) {
#ifdef TCP_QUICKACK
  const int one = 1;
  // Failure only means no quick ACK (e.g. not a TCP socket): nothing to report or undo.
  (void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
#else
  (void)fd;
#endif
}

}  // namespace strata
