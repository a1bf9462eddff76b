#include "util/dir_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

namespace strata {
namespace {

// Calls ON_ENTRY(dir fd, name) for every entry of DIR but "." and "..".
template <typename F>
Status ForEachEntry(const std::string& dir, F&& on_entry) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::NotFound("no directory " + dir);
    return Status::FromErrno(errno, "opendir " + dir);
  }
  Status s;
  while (true) {
    errno = 0;
    struct dirent* e = ::readdir(d);
    if (e == nullptr) {
      if (errno != 0) s = Status::FromErrno(errno, "readdir " + dir);
      break;
    }
    const char* n = e->d_name;
    if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'))) continue;
    on_entry(::dirfd(d), n);
  }
  ::closedir(d);
  return s;
}

DirEntry FromStat(std::string name, const struct stat& st) {
  DirEntry e;
  e.name = std::move(name);
  e.type = S_ISREG(st.st_mode) ? DirEntry::Type::kFile
           : S_ISDIR(st.st_mode) ? DirEntry::Type::kDir
                                 : DirEntry::Type::kOther;
  e.size = static_cast<uint64_t>(st.st_size);
  e.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  return e;
}

std::string Join(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  return b.empty() ? a : a + "/" + b;
}

}  // namespace

Result<std::vector<std::string>> ListDirNames(const std::string& dir) {
  std::vector<std::string> out;
  STRATA_RETURN_IF_ERROR(ForEachEntry(dir, [&](int, const char* name) { out.emplace_back(name); }));
  return out;
}

Result<std::vector<DirEntry>> ListDirEntries(const std::string& dir) {
  std::vector<DirEntry> out;
  STRATA_RETURN_IF_ERROR(ForEachEntry(dir, [&](int dfd, const char* name) {
    struct stat st{};
    if (::fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return;  // vanished meanwhile
    out.push_back(FromStat(name, st));
  }));
  return out;
}

Result<DirEntry> StatPath(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::NotFound("no file " + path);
    return Status::FromErrno(errno, "stat " + path);
  }
  const size_t slash = path.rfind('/');
  return FromStat(slash == std::string::npos ? path : path.substr(slash + 1), st);
}

Status WalkFiles(const std::string& root, const std::string& rel_dir, const WalkDescend& descend,
                 const WalkVisit& visit) {
  auto entries = ListDirEntries(Join(root, rel_dir));
  if (!entries.ok()) return entries.status().IsNotFound() ? Status::OK() : entries.status();  // gone meanwhile
  std::vector<std::string> subdirs;
  for (const DirEntry& e : entries.value()) {
    if (e.type == DirEntry::Type::kDir) {
      std::string sub = Join(rel_dir, e.name);
      if (descend(sub, e.name)) subdirs.push_back(std::move(sub));
    } else if (e.type == DirEntry::Type::kFile) {
      visit(rel_dir, e);
    }
  }
  for (const auto& sub : subdirs) STRATA_RETURN_IF_ERROR(WalkFiles(root, sub, descend, visit));
  return Status::OK();
}

}  // namespace strata
