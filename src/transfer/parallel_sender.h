// ParallelSender: `strata send`'s engine. N associations, association i to node i mod K,
// pull files from one shared queue (so a fast association takes more); each association
// proposes the contexts of one context group (context_plan.h) and reopens when the next file
// belongs to another group. Every file counts as stored only when its C-STORE response says
// success or warning.
//
// Failures: a failure status or a broken association puts the file back in the queue, to be
// retried up to `retries` more times (on a new association if the old one died, possibly to
// another node); a node that cannot be reached three times in a row, or rejects us, loses its
// associations and the other nodes take its files. A file whose SOP class / syntax the peer
// refuses, or that cannot be read, fails at once. What never got stored is listed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "transfer/dicom_file_scan.h"
#include "transfer/node_address.h"
#include "util/progress.h"
#include "util/status.h"

class DcmTransportLayer;

namespace strata {

struct SendOptions {
  std::vector<NodeAddress> nodes;
  int parallel = 4;
  std::string calling_aet = "STRATASCU";
  std::string called_aet = "STRATA";
  int retries = 2;       // extra attempts per file
  int timeout_s = 60;    // network / response timeout
  unsigned max_pdu = 131072;
  DcmTransportLayer* tls = nullptr;  // not owned: TLS to the peer (transfer/tls_transport.h); null = plain
};

struct SendFailure {
  std::string path;
  std::string sop_instance_uid;
  std::string reason;
};

struct SendReport {
  uint64_t files = 0;     // DICOM files handed in
  uint64_t stored = 0;    // acknowledged with success or warning
  uint64_t bytes = 0;     // bytes of the stored files
  uint64_t warnings = 0;  // files stored with a warning status
  uint64_t retries = 0;   // attempts beyond the first
  int associations = 0;   // associations opened
  double seconds = 0;
  std::vector<uint64_t> stored_per_node;      // same order as SendOptions::nodes
  std::vector<std::string> warning_messages;  // per-file warnings, unreachable nodes
  std::vector<SendFailure> failures;          // sorted by path
};

// Sends FILES as described above. InvalidArgument for unusable options (no node,
// parallel < 1, bad AE title); everything else is reported per file. PROGRESS (may be
// null) gets one Add per file once it is settled (stored or given up).
Result<SendReport> SendFiles(const std::vector<DicomFileInfo>& files, const SendOptions& options,
                             ProgressLine* progress);

// AE titles: 1..16 characters, no backslash or control characters, not all spaces.
Status ValidateAeTitle(const std::string& aet, const std::string& what);

}  // namespace strata
