// DurableDirs: makes the names of files placed in the hot layout durable with as few
// directory fsyncs as the layout allows. A file's name is durable once the directory holding
// it is synced AND that directory's own name is durable, up to the root. Syncing every level
// for every batch cost five or six fsyncs per stored image (each one a disk cache flush, even
// on a clean directory: ~0.4-0.9 ms each measured here), so this class remembers which
// directories this process has already made durable and syncs, per batch:
//   - every directory a file of the batch was renamed into (always: the new names), and
//   - the parent of every directory on the way up that is not known durable.
// "Known durable" is by identity (device, inode, birth time; Env::DirectoryIdentity), recorded
// only after this process itself synced that directory's parent. A directory removed and made
// again (by the reconciler, another process, another node of a shared hot tier) has another
// identity, so its chain is synced again; a directory made by another process that has not
// synced its parent yet is unknown to us, so we sync it ourselves. Identities are read after
// the files were renamed in, and a directory that holds a file cannot be removed, so the
// identity read is that of the directory that holds the file. Without birth times (a
// filesystem that does not report them) nothing is remembered and every level is synced.
//
// The directory a file was renamed out of (incoming) is not synced: if its old name comes
// back after a crash, both names are the same durable file, and the old one is removed with
// the dead process's incoming directory (HotStore::Init).
//
// Thread-safe (one mutex). ENV must outlive the object.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "util/env.h"
#include "util/status.h"

namespace strata {

class DurableDirs {
 public:
  // ROOT: the hot root (its own name is the store's set-up's business: HotStore::Init).
  // At most MAX_KNOWN identities are kept (then forgotten all at once and learnt again).
  DurableDirs(Env* env, std::string root, size_t max_known = 1 << 16);

  // Makes durable the names of the files at RELATIVE_PATHS (relative to the root, e.g.
  // "ab/cd/<study>/<series>/<file>"), and the names of the directories above them. On an
  // error nothing new is remembered and the caller must not acknowledge any of them.
  [[nodiscard]] Status SyncNames(const std::vector<std::string>& relative_paths);

  // Directory fsyncs issued so far (tests and statistics).
  uint64_t dir_syncs() const;

 private:
  Env* env_;
  std::string root_;
  size_t max_known_;
  mutable std::mutex mu_;
  std::map<std::string, DirIdentity> known_;  // relative directory -> identity made durable
  uint64_t dir_syncs_ = 0;
};

}  // namespace strata
