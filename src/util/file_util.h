// Durable file-system helpers: the only place that knows how to make a file survive a crash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/fd_io.h"  // WriteAll, for the callers that found it here
#include "util/status.h"

namespace strata {

// Creates DIR and its parents (like mkdir -p).
Status MakeDirs(const std::string& dir);
// syncfs() on the filesystem holding PATH: every file, rename and directory entry written
// there so far is durable when it returns. One call serves a whole batch of new files.
Status SyncFilesystem(const std::string& path);
// fsync() on a directory so that a rename or create inside it is durable.
Status SyncDir(const std::string& dir);
// fdatasync() of the file at PATH (opened read-only for it).
Status SyncFileData(const std::string& path);
// Writes DATA to PATH durably: a temp file beside it (util/temp_name.h), fsync, rename, and
// fsync of the directory. On failure nothing is left behind.
Status WriteFileAtomic(const std::string& path, std::string_view data);
// Reads a whole file.
Result<std::string> ReadFile(const std::string& path);
// Reads a whole file and makes its data durable (fdatasync) with one open.
Result<std::string> ReadFileAndSync(const std::string& path);
// Reads LENGTH bytes at OFFSET; a short read is an error.
Result<std::string> ReadFileRange(const std::string& path, uint64_t offset, uint64_t length);
// Size in bytes, or NotFound.
Result<uint64_t> FileSize(const std::string& path);
// Removes a file; a missing file is not an error.
Status RemoveFile(const std::string& path);
// The directory part of PATH ("a/b/c" -> "a/b").
std::string DirName(const std::string& path);
// Joins path parts with '/'.
std::string JoinPath(std::string_view a, std::string_view b);

}  // namespace strata
