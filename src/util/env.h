// Env: the file-system seam (as LevelDB's Env / RocksDB's FileSystem). Everything that makes
// stored data durable or removes it goes through an Env, so tests can inject the faults a
// real disk has: a failed fsync/syncfs, ENOSPC, a failed rename, or a crash that drops
// every write not yet synced (see util/fault_env.h).
//
// Threads: every method may be called from any thread at once. Ownership: Env::Default() is
// a process-wide object that is never deleted; other Envs are owned by whoever made them and
// must outlive every object they were handed to. Errors: Status codes as util/status.h
// (kNoSpace for ENOSPC/EDQUOT, kNotFound for ENOENT, kAlreadyExists for EEXIST, kIOError else).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace strata {

// A file being written. Not thread-safe; one writer at a time.
class WritableFile {
 public:
  virtual ~WritableFile() = default;  // closes (without syncing) if Close was not called
  [[nodiscard]] virtual Status Append(std::string_view data) = 0;
  // Makes the data appended so far durable (fdatasync).
  [[nodiscard]] virtual Status Sync() = 0;
  [[nodiscard]] virtual Status Close() = 0;
};

// A file read from start to end. Not thread-safe.
class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to N bytes into *OUT (replacing its contents); an empty *OUT means end of file.
  [[nodiscard]] virtual Status Read(size_t n, std::string* out) = 0;
  // Skips N bytes forward.
  [[nodiscard]] virtual Status Skip(uint64_t n) = 0;
};

// Which directory a path names: the same path removed and made again is another directory
// (another inode or, when the inode number is reused, another birth time).
struct DirIdentity {
  uint64_t dev = 0, ino = 0;
  int64_t birth_ns = -1;  // -1: the filesystem reports no birth time (the identity is then not trusted)
  bool operator==(const DirIdentity&) const = default;
};

class Env {
 public:
  virtual ~Env() = default;
  // The real POSIX file system.
  static Env* Default();

  // Creates PATH, which must not exist (O_EXCL).
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) = 0;
  // Creates DIR; an existing directory is not an error.
  [[nodiscard]] virtual Status CreateDir(const std::string& dir) = 0;
  // Creates DIR and its parents (mkdir -p).
  [[nodiscard]] virtual Status MakeDirs(const std::string& dir) = 0;
  // rename(2): replaces TO if it exists.
  [[nodiscard]] virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // Renames FROM to TO only if TO does not exist (kAlreadyExists otherwise): a path that a
  // catalog row may reference is never replaced.
  [[nodiscard]] virtual Status RenameNoReplace(const std::string& from, const std::string& to) = 0;
  // Removes a file; a missing file is not an error.
  [[nodiscard]] virtual Status RemoveFile(const std::string& path) = 0;
  // Removes an empty directory; a missing one is not an error.
  [[nodiscard]] virtual Status RemoveDir(const std::string& dir) = 0;
  // syncfs(2) on the filesystem holding PATH: every file, rename and directory entry written
  // there so far is durable when it returns.
  [[nodiscard]] virtual Status SyncFilesystem(const std::string& path) = 0;
  // fsync(2) on a directory, so that a create/rename/unlink inside it is durable.
  [[nodiscard]] virtual Status SyncDir(const std::string& dir) = 0;
  // fdatasync(2) of the file at PATH (written by anyone, through this Env or not): its bytes
  // are durable when it returns; its name is durable only once its directory is synced.
  [[nodiscard]] virtual Status SyncFile(const std::string& path) = 0;
  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  // LENGTH bytes at OFFSET; a short read is kCorruption.
  virtual Result<std::string> ReadFileRange(const std::string& path, uint64_t offset, uint64_t length) = 0;
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  // Names (not paths) of the entries of DIR, without "." and "..". kNotFound if DIR is missing.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  // Whether PATH names a directory (false if missing).
  virtual bool IsDirectory(const std::string& path) = 0;
  // Modification time of PATH in milliseconds since the epoch.
  virtual Result<int64_t> ModifiedMs(const std::string& path) = 0;
  // statx(2) of the directory DIR: device, inode and birth time. kNotFound if missing.
  virtual Result<DirIdentity> DirectoryIdentity(const std::string& dir) = 0;
};

// Writes DATA to PATH durably through ENV: a temp file beside it (util/temp_name.h), fsync, rename,
// fsync of the directory. On failure nothing is left behind.
[[nodiscard]] Status WriteFileAtomic(Env* env, const std::string& path, std::string_view data);

}  // namespace strata
