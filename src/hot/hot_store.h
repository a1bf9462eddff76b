// HotStore: one file per instance on fast storage (a local or shared filesystem).
// Layout: <root>/<h1>/<h2>/<StudyUID>/<SeriesUID>/<SOPUID>.<checksum8>.<random8>.dcm where h1/h2
// are two hex bytes of a hash of the Study UID: 65536 buckets, so no directory grows to millions
// of entries. Each store gets a name of its own (older rows may name <SOPUID>.<checksum8>.dcm):
// two stores of one instance, identical or not, never share a file until the catalog decides
// which one stays, so removing a loser's file never touches the copy a row references. Incoming data is written under <root>/.incoming/<node> and
// renamed into place, so a file in the layout is always complete; each node of a shared hot
// directory cleans only its own incoming files at start.
#pragma once

#include <string>
#include <vector>

#include "index/records.h"
#include "util/status.h"

namespace strata {

class HotStore {
 public:
  HotStore(std::string root, const std::string& node_id);
  Status Init();  // creates the root, removes leftover temp files of a crashed process

  const std::string& root() const { return root_; }
  // A fresh path for incoming data, on the same filesystem as the layout.
  std::string NewIncomingPath();
  // The layout path (relative to the root) for an instance. UIDs must have been validated.
  static std::string RelativePathFor(const InstanceRecord& r);
  // A layout path unique to this call: <sop>.<checksum8>.<random8>.dcm in the instance's
  // directory, so two concurrent stores of one instance never share a file.
  static std::string NewRelativePath(const InstanceRecord& r);
  std::string AbsolutePath(const std::string& relative) const;
  // Renames the file at TEMP to RELATIVE, creating directories; never replaces an existing
  // file (kAlreadyExists: a path the catalog may reference stays). Nothing is synced here: the
  // group commit syncs the hot filesystem once per batch (SyncFilesystem) before the catalog
  // rows of the batch are committed.
  Status Place(const std::string& temp, const std::string& relative);
  Result<std::string> Read(const std::string& relative) const;
  Status Remove(const std::string& relative);
  // Bytes used under the root (walks the tree; for stats pages, not hot paths).
  Result<uint64_t> UsedBytes() const;

 private:
  std::string root_;
  std::string incoming_;
};

}  // namespace strata
