// ParallelRetriever: `strata get`'s engine. Runs the units of a RetrievePlan as C-GETs over
// N associations pulling from one queue (whole series at SERIES level, instance lists at
// IMAGE level), writes every instance to OUT/<SeriesUID>/<SOPInstanceUID>.dcm as it arrives,
// then checks the result against the C-FIND: every listed instance exactly where expected.
// Instances that did not arrive are asked for again (an IMAGE-level C-GET of just those, on
// a new association if the old one died) up to `retries` times, then listed as missing.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "transfer/retrieve_plan.h"
#include "util/progress.h"

namespace strata {

struct RetrieveReport {
  uint64_t expected = 0;   // instances the C-FIND listed
  uint64_t received = 0;   // of those, written to disk
  uint64_t bytes = 0;      // bytes written (listed instances)
  uint64_t unexpected = 0; // instances the server sent that the C-FIND did not list (kept)
  uint64_t warnings = 0;
  int associations = 0;
  int cgets = 0;
  double seconds = 0;
  std::map<std::string, std::pair<uint64_t, uint64_t>> per_series;  // series -> (received, expected)
  std::vector<std::string> warning_messages;
  std::vector<std::string> failures;  // what went wrong (C-GET statuses, association errors)
  std::vector<std::string> missing;   // SOP Instance UIDs listed but never received
};

// InvalidArgument if OUT_DIR cannot be created; everything else goes into the report.
Result<RetrieveReport> ExecuteRetrieve(const RetrievePlan& plan, const RetrieveOptions& options,
                                       const std::string& out_dir, ProgressLine* progress);

}  // namespace strata
