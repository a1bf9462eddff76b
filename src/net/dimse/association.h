// One connection on the DICOM port, on its own thread: waits (bounded by the handshake
// timeout) for the whole A-ASSOCIATE-RQ, negotiates, serves commands until release, abort or
// the idle timeout, and logs one structured line (peer, AE titles, counts, duration, outcome).
#pragma once

#include <mutex>
#include <string>

#include "net/dimse/admission.h"
#include "net/dimse/dimse_service.h"
#include "util/status.h"

namespace strata {

// A-ASSOCIATE-RQ PDUs larger than this are refused: a conforming one (at most 128
// presentation contexts) is far smaller, and the whole PDU must fit in the socket buffer.
constexpr size_t kMaxAssociateRqBytes = 64 * 1024;

// dcmExternalSocketHandle is process-global: whoever sets it holds this (one hand-over at a time).
std::mutex& ExternalSocketMutex();

// Waits until a complete A-ASSOCIATE-RQ PDU is buffered on FD (peeked, not read).
Status AwaitAssociateRq(int fd, int timeout_ms, size_t max_pdu_bytes);

// Serves the connection FD (admitted as pending by ADMISSION) and closes it. TLS: FD came in on
// the TLS port (env.tls then does the handshake, tls_acceptor.h).
void ServeConnection(const ServiceEnv& env, Admission* admission, int fd, const std::string& peer, bool tls);

}  // namespace strata
