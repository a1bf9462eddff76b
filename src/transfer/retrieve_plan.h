// What `strata get` will fetch, asked of the server with C-FIND before any C-GET: the study's
// series (or the one series asked for), then each series' instances (SOP Instance and SOP
// Class UIDs), so the retrieval can be split over associations, propose the right storage
// contexts, and be checked instance by instance at the end.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "transfer/node_address.h"
#include "transfer/work_split.h"
#include "util/status.h"

class DcmTransportLayer;

namespace strata {

struct RetrieveOptions {
  NodeAddress node;
  std::string calling_aet = "STRATASCU";
  std::string called_aet = "STRATA";
  std::string study_uid;
  std::string series_uid;  // empty = the whole study
  int parallel = 4;
  int retries = 2;         // extra C-GETs for instances that did not arrive
  int timeout_s = 60;
  unsigned max_pdu = 131072;
  DcmTransportLayer* tls = nullptr;  // not owned: TLS to the peer (transfer/tls_transport.h); null = plain
};

struct RetrievePlan {
  std::vector<SeriesInstances> series;   // as the server listed them
  std::vector<std::string> sop_classes;  // SOP classes the server reported (may be empty)
  std::vector<RetrieveUnit> units;       // SplitRetrieve(series, parallel)
  uint64_t instances = 0;
  std::vector<std::string> warnings;     // e.g. a series count that disagrees with its list
};

// Runs the C-FINDs on one association. NotFound when the study (or series) has no instance
// on the server; InvalidArgument for a malformed UID in the options.
Result<RetrievePlan> PlanRetrieve(const RetrieveOptions& options);

}  // namespace strata
