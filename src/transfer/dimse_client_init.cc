#include "transfer/dimse_client_init.h"

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/dcmnet/dul.h>
#include <dcmtk/oflog/oflog.h>

namespace strata {

void InitDimseClient(int timeout_s) {
  // Checked on every call (an embedding program may have changed it); written only when it
  // is not already "1", so threads opening sockets meanwhile only ever read it.
  const char* nodelay = std::getenv("TCP_NODELAY");
  if (nodelay == nullptr || std::strcmp(nodelay, "1") != 0) setenv("TCP_NODELAY", "1", 1);
  static std::once_flag once;
  std::call_once(once, [timeout_s] {
    std::signal(SIGPIPE, SIG_IGN);
    dcmDisableGethostbyaddr.set(OFTrue);
    dcmConnectionTimeout.set(timeout_s < 10 ? timeout_s : 10);
    dcmSocketSendTimeout.set(timeout_s);
    dcmSocketReceiveTimeout.set(timeout_s);
    OFLog::configure(OFLogger::ERROR_LOG_LEVEL);
  });
}

}  // namespace strata
