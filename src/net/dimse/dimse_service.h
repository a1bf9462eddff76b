// What the DIMSE services (store_service, find_service, retrieve_service) share: the archive,
// the options, DCMTK's network (C-MOVE opens sub-associations on it) and the per-association
// counters the association's log line reports. Each Handle* serves one request on ASSOC and
// returns a bad condition only when the association itself is broken (it is then aborted).
#pragma once

#include <cstdint>
#include <string>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>

#include "archive/archive.h"
#include "net/dimse/dimse_options.h"
#include "net/dimse/find_handler.h"

namespace strata {

// Per-association counters for the log line.
struct AssocStats {
  std::string peer, calling, called;
  int echo = 0, store = 0, find = 0, move = 0, get = 0, commit = 0;
  uint64_t instances_in = 0, instances_out = 0, bytes_in = 0, bytes_out = 0, failures = 0, warnings = 0;
  std::string status = "ok";
};

struct ServiceEnv {
  Archive* archive;
  const DimseOptions* opt;
  T_ASC_Network* net;  // for C-MOVE sub-associations
};

// AE titles and UIDs from DCMTK's fixed buffers, without trailing blanks/NULs.
std::string TrimDicom(const char* s);
QueryRoot RootOf(const char* sop_class);

OFCondition HandleStore(const ServiceEnv& env, T_ASC_Association* assoc, T_ASC_PresentationContextID pc,
                        T_DIMSE_C_StoreRQ& req, AssocStats* st);
OFCondition HandleFind(const ServiceEnv& env, T_ASC_Association* assoc, T_ASC_PresentationContextID pc,
                       T_DIMSE_C_FindRQ& req, AssocStats* st);
OFCondition HandleGet(const ServiceEnv& env, T_ASC_Association* assoc, T_ASC_PresentationContextID pc,
                      T_DIMSE_C_GetRQ& req, AssocStats* st);
OFCondition HandleMove(const ServiceEnv& env, T_ASC_Association* assoc, T_ASC_PresentationContextID pc,
                       T_DIMSE_C_MoveRQ& req, AssocStats* st);

}  // namespace strata
