#include "util/fd_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace strata {

Status WriteAll(int fd, std::string_view data, const std::string& what) {
  const char* p = data.data();
  size_t n = data.size();
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "write " + what);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::OK();
}

Result<size_t> PreadUpTo(int fd, char* buf, size_t n, uint64_t offset, const std::string& what) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, buf + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "read " + what);
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}

Status PreadExact(int fd, char* buf, size_t n, uint64_t offset, const std::string& what) {
  STRATA_ASSIGN_OR_RETURN(size_t got, PreadUpTo(fd, buf, n, offset, what));
  if (got != n) {
    return Status::Corruption("short read of " + what + ": " + std::to_string(got) + " of " + std::to_string(n) +
                              " bytes at offset " + std::to_string(offset) + " (file shrank?)");
  }
  return Status::OK();
}

Status AppendFileTo(int out_fd, const std::string& in_path, const std::string& what) {
  int in = ::open(in_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Status::FromErrno(errno, "open " + in_path);
  Status s;
  bool fallback = false;
  while (true) {
    ssize_t n = ::copy_file_range(in, nullptr, out_fd, nullptr, 64u << 20, 0);
    if (n > 0) continue;
    if (n == 0) break;
    if (errno == EINTR) continue;
    if (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP) {
      fallback = true;  // read/write go on from where the kernel copy stopped (shared offsets)
    } else {
      s = Status::FromErrno(errno, "copy " + in_path + " to " + what);
    }
    break;
  }
  if (s.ok() && fallback) {
    std::string buf(1u << 20, '\0');
    while (true) {
      ssize_t n = ::read(in, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        s = Status::FromErrno(errno, "read " + in_path);
        break;
      }
      if (n == 0) break;
      s = WriteAll(out_fd, std::string_view(buf.data(), static_cast<size_t>(n)), what);
      if (!s.ok()) break;
    }
  }
  ::close(in);
  return s;
}

}  // namespace strata
