// EINTR-safe loops over one open file descriptor: the only places in the tree that call
// write(2), pread(2) and copy_file_range(2) in a loop. They neither open nor close FD.
// WHAT names the file in error messages. Errors: Status::FromErrno codes (util/status.h);
// a read that ends before the bytes asked for is kCorruption where the caller needs them all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace strata {

// write() until all of DATA is written.
[[nodiscard]] Status WriteAll(int fd, std::string_view data, const std::string& what);
// pread() of up to N bytes at OFFSET into BUF, until N bytes are read or the file ends;
// returns the number of bytes read (less than N only at end of file).
Result<size_t> PreadUpTo(int fd, char* buf, size_t n, uint64_t offset, const std::string& what);
// pread() of exactly N bytes at OFFSET into BUF; kCorruption if the file ends first (a file
// that shrank under its reader).
[[nodiscard]] Status PreadExact(int fd, char* buf, size_t n, uint64_t offset, const std::string& what);
// Appends the whole file at IN_PATH to OUT_FD at its current position: copy_file_range (a
// kernel copy, reflinked where the file system can), or read/write where it is not supported.
[[nodiscard]] Status AppendFileTo(int out_fd, const std::string& in_path, const std::string& what);

}  // namespace strata
