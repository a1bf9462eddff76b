// Coalesced cold reads: a whole study streamed from a pack is many small entries lying side
// by side in one object. Reading N adjacent entries with one ranged GET instead of N costs the
// object store one request instead of N (RGW's per-request work — authentication, bucket index,
// a RADOS read — dominated 0.5 MB reads; docs/benchmarks.md). Archive::ReadRun (read_run.cc)
// reads such a run and verifies each entry; PackRunLength says how long a run may be.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "model/records.h"

namespace strata {

struct RunLimits {
  uint64_t max_bytes = 2 << 20;   // one ranged read covers at most this many bytes (0: one entry)
  uint64_t max_gap = 64 << 10;    // bytes between two entries (ZIP local headers) read and dropped
  size_t max_entries = 32;
};

// How many leading RECORDS form one run for Archive::ReadRun: cold records of the same pack
// whose entries follow each other (each starts after the previous one's end, within
// max_gap), up to the limits. Always >= 1 for a non-empty span (a hot record is a run of one).
size_t PackRunLength(std::span<const InstanceRecord> records, const RunLimits& limits = {});

}  // namespace strata
