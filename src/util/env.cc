#include "util/env.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "util/dir_walk.h"
#include "util/file_util.h"
#include "util/temp_name.h"

namespace strata {
namespace {

class PosixWritableFile : public WritableFile {
 public:
  PosixWritableFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Append(std::string_view data) override { return WriteAll(fd_, data, path_); }
  Status Sync() override {
    if (::fdatasync(fd_) != 0) return Status::FromErrno(errno, "fdatasync " + path_);
    return Status::OK();
  }
  Status Close() override {
    int fd = fd_;
    fd_ = -1;
    if (fd >= 0 && ::close(fd) != 0) return Status::FromErrno(errno, "close " + path_);
    return Status::OK();
  }

 private:
  int fd_;
  std::string path_;
};

class PosixSequentialFile : public SequentialFile {
 public:
  PosixSequentialFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixSequentialFile() override { ::close(fd_); }
  Status Read(size_t n, std::string* out) override {
    out->resize(n);
    for (;;) {
      ssize_t r = ::read(fd_, out->data(), n);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        out->clear();
        return Status::FromErrno(errno, "read " + path_);
      }
      out->resize(static_cast<size_t>(r));
      return Status::OK();
    }
  }
  Status Skip(uint64_t n) override {
    if (::lseek(fd_, static_cast<off_t>(n), SEEK_CUR) < 0) return Status::FromErrno(errno, "seek " + path_);
    return Status::OK();
  }

 private:
  int fd_;
  std::string path_;
};

class PosixEnv : public Env {
 public:
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return Status::FromErrno(errno, "create " + path);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(fd, path));
  }
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, "open " + path);
    return std::unique_ptr<SequentialFile>(new PosixSequentialFile(fd, path));
  }
  Status CreateDir(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Status::FromErrno(errno, "mkdir " + dir);
    return Status::OK();
  }
  Status MakeDirs(const std::string& dir) override { return strata::MakeDirs(dir); }
  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return Status::FromErrno(errno, "rename " + from + " to " + to);
    return Status::OK();
  }
  Status RenameNoReplace(const std::string& from, const std::string& to) override {
    // renameat2(RENAME_NOREPLACE) is atomic; glibc 2.36 exposes it, older ones via syscall.
    if (::syscall(SYS_renameat2, AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), 1u /* RENAME_NOREPLACE */) != 0) {
      int err = errno;
      if (err == EEXIST) return Status::AlreadyExists(to + " exists already");
      return Status::FromErrno(err, "rename " + from + " to " + to);
    }
    return Status::OK();
  }
  Status RemoveFile(const std::string& path) override { return strata::RemoveFile(path); }
  Status RemoveDir(const std::string& dir) override {
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) return Status::FromErrno(errno, "rmdir " + dir);
    return Status::OK();
  }
  Status SyncFilesystem(const std::string& path) override { return strata::SyncFilesystem(path); }
  Status SyncDir(const std::string& dir) override { return strata::SyncDir(dir); }
  Status SyncFile(const std::string& path) override { return strata::SyncFileData(path); }
  Result<std::string> ReadFile(const std::string& path) override { return strata::ReadFile(path); }
  Result<std::string> ReadFileRange(const std::string& path, uint64_t offset, uint64_t length) override {
    return strata::ReadFileRange(path, offset, length);
  }
  Result<uint64_t> FileSize(const std::string& path) override { return strata::FileSize(path); }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    return ListDirNames(dir);
  }
  bool IsDirectory(const std::string& path) override {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }
  Result<int64_t> ModifiedMs(const std::string& path) override {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) return Status::FromErrno(errno, "stat " + path);
    return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
  }
  Result<DirIdentity> DirectoryIdentity(const std::string& dir) override {
    struct statx sx {};
    if (::statx(AT_FDCWD, dir.c_str(), 0, STATX_TYPE | STATX_INO | STATX_BTIME, &sx) != 0)
      return Status::FromErrno(errno, "statx " + dir);
    if (!S_ISDIR(sx.stx_mode)) return Status::InvalidArgument(dir + " is not a directory");
    DirIdentity id;
    id.dev = (static_cast<uint64_t>(sx.stx_dev_major) << 32) | sx.stx_dev_minor;
    id.ino = sx.stx_ino;
    if (sx.stx_mask & STATX_BTIME)
      id.birth_ns = static_cast<int64_t>(sx.stx_btime.tv_sec) * 1000000000 + sx.stx_btime.tv_nsec;
    return id;
  }
};

}  // namespace

Env* Env::Default() {
  static Env* env = new PosixEnv;  // never deleted: used until the process exits
  return env;
}

Status WriteFileAtomic(Env* env, const std::string& path, std::string_view data) {
  const std::string tmp = TempPathBeside(path);
  STRATA_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(tmp));
  Status s = file->Append(data);
  if (s.ok()) s = file->Sync();
  Status c = file->Close();
  if (s.ok()) s = c;
  if (s.ok()) s = env->RenameFile(tmp, path);
  if (!s.ok()) {
    (void)env->RemoveFile(tmp);
    return s;
  }
  return env->SyncDir(DirName(path));
}

}  // namespace strata
