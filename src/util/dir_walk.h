// Directory listings and walks on the real file system (readdir + fstatat, symlinks not
// followed), for stores that own a directory tree (cold/local_cold_store). Code that must go
// through the Env seam (util/env.h) lists with Env::ListDir instead.
//
// Concurrency: the tree may change while it is read. An entry removed between readdir and
// its stat is skipped; a directory removed before it is opened is NotFound for ListDirEntries
// and simply not walked by WalkFiles. Order: as readdir returns it (callers sort).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "util/status.h"

namespace strata {

struct DirEntry {
  enum class Type { kFile, kDir, kOther };  // kOther: symlinks, sockets, devices...
  std::string name;      // no "." or ".."
  Type type = Type::kOther;
  uint64_t size = 0;     // st_size
  int64_t mtime_ns = 0;  // st_mtim in nanoseconds since the epoch
  int64_t mtime_ms() const { return mtime_ns / 1000000; }
};

// Names of the entries of DIR without "." and ".."; kNotFound if DIR is missing (or not a
// directory).
Result<std::vector<std::string>> ListDirNames(const std::string& dir);
// The entries of DIR, each stat'ed (see above); kNotFound if DIR is missing.
Result<std::vector<DirEntry>> ListDirEntries(const std::string& dir);

// PATH stat'ed, following symlinks, as an entry named by PATH's last component; kNotFound if
// PATH (or a directory on the way) is missing.
Result<DirEntry> StatPath(const std::string& path);

// Walks ROOT/REL_DIR depth-first: VISIT(rel_dir, entry) for every regular file, where REL_DIR
// is the file's directory relative to ROOT ("" for ROOT itself); descends into the
// subdirectory REL_SUB (relative to ROOT) only when DESCEND(rel_sub, name) is true. The first
// error (other than a directory vanishing) stops the walk.
using WalkDescend = std::function<bool(const std::string& rel_sub, const std::string& name)>;
using WalkVisit = std::function<void(const std::string& rel_dir, const DirEntry& file)>;
[[nodiscard]] Status WalkFiles(const std::string& root, const std::string& rel_dir, const WalkDescend& descend,
                               const WalkVisit& visit);

}  // namespace strata
