// FaultEnv: an Env for tests that wraps another one and injects the faults of a real disk
// (as LevelDB's FaultInjectionTestEnv): failed fsync/fdatasync/syncfs, ENOSPC, failed
// renames, and a crash that drops everything not yet durable.
//
// Durability model. File data appended after the file's last Sync or SyncFile (or after the
// last SyncFilesystem) is lost in a crash. A create, rename, remove, mkdir or rmdir is durable
// once every directory it touched has been SyncDir'ed after it, or after a SyncFilesystem
// (which makes everything durable: tests keep one filesystem). SimulateCrash() truncates every
// file written through this Env to its durable length, then undoes the operations not yet
// durable, newest first: a created file vanishes; a created directory vanishes with all it
// holds (even files synced on their own: their names hang on it); a removed file comes back
// with its durable bytes; a renamed file goes back, unless only its new directory was synced
// (then it keeps the new name and the old name comes back too, as a filesystem may leave both). BASE must be a real (POSIX) file
// system: the crash truncates files on it. Files that existed before the FaultEnv
// saw them count as durable. After a crash every write is refused until Reset().
//
// Threads: all methods may be called at once from several threads (one mutex).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "util/env.h"

namespace strata {

// Operation kinds a fault may hit.
enum class FaultOp {
  kCreate,          // NewWritableFile
  kAppend,          // WritableFile::Append
  kSync,            // WritableFile::Sync and Env::SyncFile (fdatasync)
  kSyncDir,         // Env::SyncDir
  kSyncFilesystem,  // Env::SyncFilesystem (syncfs)
  kRename,          // RenameFile and RenameNoReplace
  kMkdir,           // CreateDir and each directory MakeDirs creates
  kRemove,          // RemoveFile
  kRemoveDir,       // RemoveDir
};

struct FaultRule {
  FaultOp op = FaultOp::kSync;
  Status error = Status::IOError("injected EIO");  // what the faulty call returns
  uint64_t skip = 0;           // let this many matching calls pass first (a countdown)
  int64_t times = 1;           // then fail this many (< 0 = every one after)
  double probability = 1.0;    // each eligible call fails with this probability
  std::string path_contains;   // only calls on a path containing this (empty = any)
};

class FaultEnv : public Env {
 public:
  // BASE must outlive this Env.
  explicit FaultEnv(Env* base, uint64_t seed = 1);
  ~FaultEnv() override;

  void AddFault(FaultRule rule);
  void ClearFaults();
  // After N more mutating operations (create, append, sync, rename, mkdir, remove, ...) the
  // Env behaves as a machine that lost power: the N-th succeeds, every later one fails.
  // Call SimulateCrash() afterwards to drop what was not durable. 0 = never.
  void CrashAfter(uint64_t n);
  // Mutating operations seen so far (to choose crash points).
  uint64_t mutating_ops() const;
  // Drops everything not yet durable (see above) and refuses writes until Reset().
  [[nodiscard]] Status SimulateCrash();
  // Forgets all tracking (what is on disk now counts as durable), faults and the crash state.
  void Reset();
  // Operations undone by the last SimulateCrash (for tests of this class).
  uint64_t undone_by_last_crash() const;

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override;
  Status CreateDir(const std::string& dir) override;
  Status MakeDirs(const std::string& dir) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status RenameNoReplace(const std::string& from, const std::string& to) override;
  Status RemoveFile(const std::string& path) override;
  Status RemoveDir(const std::string& dir) override;
  Status SyncFilesystem(const std::string& path) override;
  Status SyncDir(const std::string& dir) override;
  Status SyncFile(const std::string& path) override;
  Result<std::string> ReadFile(const std::string& path) override;
  Result<std::string> ReadFileRange(const std::string& path, uint64_t offset, uint64_t length) override;
  Result<uint64_t> FileSize(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& dir) override;
  bool IsDirectory(const std::string& path) override;
  Result<int64_t> ModifiedMs(const std::string& path) override;
  Result<DirIdentity> DirectoryIdentity(const std::string& dir) override;

  struct FileState {
    uint64_t written = 0;  // bytes appended
    uint64_t durable = 0;  // bytes that survive a crash
  };

 private:
  friend class FaultWritableFile;
  struct Pending {  // a namespace operation not yet durable
    enum Kind { kCreate, kRename, kRemove, kMkdir, kRmdir } kind;
    std::string path, to;          // kRename: path -> to
    bool restore = false;          // kRemove / kRename over a file: bytes to bring back
    std::string content;
    std::vector<std::string> dirs;  // directories still to be synced
  };
  // Checks the crash state and the fault rules for one operation on PATH, and counts it.
  Status CheckLocked(FaultOp op, const std::string& path);
  Status CreateDirLocked(const std::string& dir);
  Status RenameLocked(const std::string& from, const std::string& to, bool no_replace);
  // Removes DIR and everything under it on the base (an undone mkdir).
  Status RemoveTreeLocked(const std::string& dir);
  // The durable bytes of PATH as far as this Env knows (all of an untracked file).
  Result<std::string> DurableContentLocked(const std::string& path);
  // Writes CONTENT to PATH behind the tracking's back (to undo a remove).
  Status RestoreLocked(const std::string& path, const std::string& content);

  Env* base_;
  mutable std::mutex mu_;
  std::vector<FaultRule> rules_;
  std::vector<uint64_t> rule_seen_;
  std::vector<int64_t> rule_failed_;
  std::mt19937_64 rng_;
  uint64_t ops_ = 0;
  uint64_t crash_at_ = 0;   // 0 = no crash scheduled
  bool frozen_ = false;     // the crash point has passed: every write fails
  bool crashed_ = false;    // SimulateCrash ran: every write fails until Reset
  uint64_t undone_ = 0;
  std::map<std::string, std::shared_ptr<FileState>> files_;  // by current path
  std::vector<Pending> pending_;
};

}  // namespace strata
