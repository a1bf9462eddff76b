// Converter: moves studies from the hot tier into packs in the cold store.
// Per study: claim (lease) -> build the pack from the hot files while uploading it in parts
// -> read it back and verify every entry -> switch the catalog rows to the pack in one
// transaction -> delete the hot files. The state of each migration is kept in the catalog.
// A crash or kill at any step leaves every image readable (the catalog points at the hot
// file until the switch commits, and at a verified pack after it); Cleanup() finishes or
// undoes what a dead run left: pending uploads aborted, unreferenced pack objects deleted,
// hot files of switched instances removed.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "archive/archive.h"

namespace strata {

// A re-encoded entry; lossless_verified when it was decoded again and found equal to the
// received file (tiering/pack_codec.h), recorded in the pack manifest.
struct TranscodedEntry {
  std::string bytes;
  std::string transfer_syntax;
  bool lossless_verified = false;
};

// Re-encodes one Part 10 file for the pack (lossless compression); returns the new bytes
// and syntax, or an error to store the entry as received.
struct EntryTranscoder {
  std::function<Result<TranscodedEntry>(const InstanceRecord&, const std::string&)> fn;
};

struct ConverterOptions {
  std::string node_id = "local";
  int64_t older_than_ms = 7LL * 86400 * 1000;  // last image received longer ago than this
  int64_t study_date_older_than_ms = 0;        // StudyDate older than this (0 = not used)
  int64_t interval_ms = 5 * 60 * 1000;
  std::string window;                          // "22:00-06:00" local time, empty = always
  int studies_at_once = 2;
  int64_t lease_ms = 10 * 60 * 1000;
  uint64_t part_size = 16ull << 20;            // multipart part size
  int parallel_parts = 4;
  EntryTranscoder transcoder;                  // empty = store entries as received
};

struct MigrationReport {
  uint64_t studies = 0, instances = 0, bytes_in = 0, pack_bytes = 0, failed = 0, skipped = 0;
  // Entries re-encoded and proven lossless / whose proof failed (stored as received).
  uint64_t lossless_verified = 0, lossless_proof_failed = 0;
  double seconds = 0;
};

// Progress of the run: instances and bytes done so far (for the CLI's progress line).
using MigrationProgress = std::function<void(uint64_t instances, uint64_t bytes, const std::string& study)>;

class Converter {
 public:
  Converter(Archive* archive, ConverterOptions options);
  ~Converter();

  // Migrates what the policy selects now. STUDY_UID restricts to one study; OLDER_THAN_MS
  // (>= 0) overrides the age threshold (`strata migrate --older-than 0s`).
  Result<MigrationReport> RunOnce(const std::string& study_uid, int64_t older_than_ms,
                                  const MigrationProgress& progress = nullptr);
  // Migrates one study (claimed by this node). Returns the instances moved.
  Status MigrateStudy(const std::string& study_uid, MigrationReport* report, const MigrationProgress& progress);
  // Repairs what interrupted runs left behind (see above).
  Status Cleanup();

  // Background loop for `strata serve`.
  void Start();
  void Stop();

  // True if NOW (local time) is inside the configured window.
  static bool InWindow(const std::string& window, int minutes_since_midnight);

 private:
  std::string NewPackKey(const std::string& study_uid) const;
  Status DeleteStaleHotFiles(const std::string& study_uid);

  Archive* archive_;
  ConverterOptions opt_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace strata
