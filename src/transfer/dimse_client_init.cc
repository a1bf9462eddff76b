#include "transfer/dimse_client_init.h"

#include <csignal>
#include <cstdlib>
#include <mutex>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/dcmnet/dul.h>
#include <dcmtk/oflog/oflog.h>

namespace strata {

void InitDimseClient(int timeout_s) {
  static std::once_flag once;
  std::call_once(once, [timeout_s] {
    setenv("TCP_NODELAY", "1", 1);
    std::signal(SIGPIPE, SIG_IGN);
    dcmDisableGethostbyaddr.set(OFTrue);
    dcmConnectionTimeout.set(timeout_s < 10 ? timeout_s : 10);
    dcmSocketSendTimeout.set(timeout_s);
    dcmSocketReceiveTimeout.set(timeout_s);
    OFLog::configure(OFLogger::ERROR_LOG_LEVEL);
  });
}

}  // namespace strata
