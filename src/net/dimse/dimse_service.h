// What the DIMSE services (store_service, find_service, retrieve_service) share: the archive,
// the options, DCMTK's network (C-MOVE opens sub-associations on it) and the per-association
// counters the association's log line reports. Each Handle* serves one request on ASSOC and
// returns a bad condition only when the association itself is broken (it is then aborted).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>

#include "archive/archive.h"
#include "net/dimse/dimse_options.h"
#include "net/dimse/find_handler.h"
#include "util/audit_log.h"

class DcmTLSTransportLayer;

namespace strata {

// Per-association counters for the log line.
struct AssocStats {
  std::string peer, calling, called;
  bool tls = false;                        // came in on the TLS port
  std::vector<std::string> tls_identities;  // of its verified client certificate (CN, SANs)
  int echo = 0, store = 0, find = 0, move = 0, get = 0, commit = 0;
  uint64_t instances_in = 0, instances_out = 0, bytes_in = 0, bytes_out = 0, failures = 0, warnings = 0;
  // C-STORE time per phase, summed over the association (microseconds): receiving the data
  // set, then StoreFile's phases (archive/archive.h StoreTimings), then sending the response.
  int64_t receive_us = 0, scan_us = 0, sync_us = 0, place_us = 0, commit_us = 0, respond_us = 0;
  std::string status = "ok";
};

struct ServiceEnv {
  Archive* archive;
  const DimseOptions* opt;
  T_ASC_Network* net;  // for C-MOVE sub-associations
  DcmTLSTransportLayer* tls = nullptr;  // the TLS port's layer (nullptr: no TLS port)
};

// AE titles and UIDs from DCMTK's fixed buffers, without trailing blanks/NULs.
std::string TrimDicom(const char* s);
QueryRoot RootOf(const char* sop_class);
// An audit event of this association (who: calling AE and peer address) for ACTION on SERVICE.
AuditEvent DimseAudit(const AssocStats& st, const char* action, const char* service);

// True when associations we open to AE go over TLS (listed in dimse.tls_destinations).
bool UsesTls(const DimseOptions& opt, const std::string& ae);

OFCondition HandleStore(const ServiceEnv& env, T_ASC_Association* assoc, T_ASC_PresentationContextID pc,
                        T_DIMSE_C_StoreRQ& req, AssocStats* st);
OFCondition HandleFind(const ServiceEnv& env, T_ASC_Association* assoc, T_ASC_PresentationContextID pc,
                       T_DIMSE_C_FindRQ& req, AssocStats* st);
OFCondition HandleGet(const ServiceEnv& env, T_ASC_Association* assoc, T_ASC_PresentationContextID pc,
                      T_DIMSE_C_GetRQ& req, AssocStats* st);
OFCondition HandleMove(const ServiceEnv& env, T_ASC_Association* assoc, T_ASC_PresentationContextID pc,
                       T_DIMSE_C_MoveRQ& req, AssocStats* st);

}  // namespace strata
