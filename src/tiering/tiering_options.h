// What the tiering parts (MigrationScheduler, StudyMigration, Janitor, ...) share: their
// options, the migration report and the progress callback.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>

#include "model/records.h"
#include "util/status.h"

namespace strata {

// Re-encodes one Part 10 file for the pack (lossless compression); returns the new bytes
// and syntax, or an error to store the entry as received.
// A re-encoded entry; lossless_verified when it was decoded again and found equal to the
// received file (tiering/pack_codec.h), recorded in the pack manifest.
struct TranscodedEntry {
  std::string bytes;
  std::string transfer_syntax;
  bool lossless_verified = false;
};

struct EntryTranscoder {
  std::function<Result<TranscodedEntry>(const InstanceRecord&, const std::string&)> fn;
};

// When a study's next pack carries its older packs over (consolidation), so that late
// images do not make a study a heap of small packs.
struct ConsolidationPolicy {
  // A study never has more packs than this after a pass (>= 1).
  int max_packs = 4;
  // Also consolidate when, after this pass, the bytes outside the study's largest pack would
  // be more than this share of its packed bytes (0 < share <= 1; >= 1 turns the rule off).
  double small_share = 0.25;
};

struct TieringOptions {
  // Names this node in claims and pack keys. `strata` passes the `node_id` setting, or the
  // host name when it is empty (cli/archive_options.cc); "local" is for tests and tools.
  std::string node_id = "local";
  int64_t older_than_ms = 7LL * 86400 * 1000;  // last image received longer ago than this
  int64_t study_date_older_than_ms = 0;        // StudyDate older than this (0 = not used)
  int64_t interval_ms = 5 * 60 * 1000;
  std::string window;                          // "22:00-06:00" local time, empty = always
  int studies_at_once = 2;
  int64_t lease_ms = 10 * 60 * 1000;
  // The janitor deletes an unreferenced pack object or pending upload only once it is this
  // old (< 0 = twice the lease). Safety does not rest on it (see janitor.h); it is a margin.
  int64_t orphan_grace_ms = -1;
  uint64_t part_size = 16ull << 20;            // multipart part size
  int parallel_parts = 4;
  EntryTranscoder transcoder;                  // empty = store entries as received
  ConsolidationPolicy consolidation;
  // IOCM: instances rejected longer ago than this are deleted by each pass (< 0 = never).
  int64_t rejected_delete_after_ms = -1;
  // Retention rules (archive/retention.h): modality or "*" -> days a study is kept after its
  // StudyDate. Empty: nothing is deleted by age.
  std::map<std::string, int64_t> retention_keep_days;

  int64_t orphan_grace() const { return orphan_grace_ms >= 0 ? orphan_grace_ms : 2 * lease_ms; }
};

struct MigrationReport {
  uint64_t studies = 0, instances = 0, bytes_in = 0, pack_bytes = 0, failed = 0, skipped = 0;
  // Entries re-encoded and proven lossless / whose proof failed (stored as received).
  uint64_t lossless_verified = 0, lossless_proof_failed = 0;
  uint64_t compacted_packs = 0;  // packs rewritten without their dead entries
  double seconds = 0;
};

// Progress of the run: instances and bytes done so far (for the CLI's progress line).
using MigrationProgress = std::function<void(uint64_t instances, uint64_t bytes, const std::string& study)>;

}  // namespace strata
