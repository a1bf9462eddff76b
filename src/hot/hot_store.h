// HotStore: one file per instance on fast storage (a local or shared filesystem).
// Layout: <root>/<h1>/<h2>/<StudyUID>/<SeriesUID>/<SOPUID>.<checksum8>.<random8>.dcm where
// h1/h2 are two hex bytes of a hash of the Study UID: 65536 buckets, so no directory grows to
// millions of entries. The random part makes every store's path unique, so a path that a
// catalog row may reference is never written twice (Place refuses an existing target).
//
// Incoming data is written under <root>/.incoming/<node>/<pid>-<start time>, one directory per
// process, and renamed into place, so a file in the layout was complete when renamed. Init
// removes only the incoming directories of dead processes of this node: a CLI command beside
// a running server never touches the server's files, nor one node another node's.
//
// All file-system access goes through the Env given at construction (tests inject faults).
// Thread-safe after Init.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "model/records.h"
#include "util/env.h"
#include "util/status.h"

namespace strata {

// Who owns an incoming directory: a process, told apart from a later one with the same pid
// by its start time (field 22 of /proc/<pid>/stat, clock ticks since boot).
struct ProcessOwner {
  int64_t pid = 0;
  uint64_t start_time = 0;
  std::string Name() const;  // "<pid>-<start time>", the directory name
  // Parses a directory name; false if NAME is not of that form.
  static bool Parse(const std::string& name, ProcessOwner* out);
  static ProcessOwner Self();
  // Whether the process still runs (same pid and same start time). A process whose state
  // cannot be read for another reason than its absence counts as alive.
  static bool IsAlive(const ProcessOwner& owner);
};

struct HotStoreOptions {
  // This process's identity and the liveness test; injectable so that tests can run several
  // "processes" in one.
  ProcessOwner owner = ProcessOwner::Self();
  std::function<bool(const ProcessOwner&)> is_alive = &ProcessOwner::IsAlive;
};

class HotStore {
 public:
  // ENV must outlive the store.
  HotStore(Env* env, std::string root, const std::string& node_id, HotStoreOptions options = {});
  // Creates the root and this process's incoming directory (the root's name made durable),
  // removes the incoming leftovers of dead processes of this node.
  [[nodiscard]] Status Init();

  const std::string& root() const { return root_; }
  Env* env() const { return env_; }
  // This process's incoming directory.
  const std::string& incoming_dir() const { return incoming_; }
  // A fresh path for incoming data, on the same filesystem as the layout.
  std::string NewIncomingPath();
  // A new layout path (relative to the root) for an instance: unique per call. UIDs must
  // have been validated.
  static std::string NewRelativePath(const InstanceRecord& r);
  std::string AbsolutePath(const std::string& relative) const;
  // Renames the file at TEMP to RELATIVE, creating directories; kAlreadyExists if RELATIVE
  // exists (it is never replaced). Nothing is synced here: the group commit makes the
  // names of a batch durable (hot/durable_dirs.h) before the catalog rows of the batch commit.
  [[nodiscard]] Status Place(const std::string& temp, const std::string& relative);
  Result<std::string> Read(const std::string& relative) const;
  [[nodiscard]] Status Remove(const std::string& relative);
  // Bytes used under the root (walks the tree; for stats pages, not hot paths).
  Result<uint64_t> UsedBytes() const;

 private:
  [[nodiscard]] Status RemoveDeadIncoming(const std::string& node_dir);

  Env* env_;
  std::string root_;
  std::string incoming_;
  HotStoreOptions options_;
};

}  // namespace strata
