// Process-wide DCMTK settings for our client side, applied once before the first association:
//  - Nagle off: DCMTK 3.6.7 reads the TCP_NODELAY environment variable for every socket it
//    opens (without it every small DIMSE write waits ~40 ms for the peer's delayed ACK);
//  - connect / socket timeouts, so a dead or silent peer fails instead of hanging;
//  - no reverse DNS lookups, SIGPIPE ignored (a peer that vanishes is an error, not a crash),
//    DCMTK's own console logging only for errors.
#pragma once

namespace strata {

// TIMEOUT_S bounds each socket read/write (connecting: at most 10 s). The first call's
// timeouts stay; TCP_NODELAY=1 is (re)checked on every call. ScuAssociation::Open calls it.
void InitDimseClient(int timeout_s);

}  // namespace strata
