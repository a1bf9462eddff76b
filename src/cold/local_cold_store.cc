#include "cold/local_cold_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <tuple>
#include <spdlog/spdlog.h>

#include "cold/object_key.h"
#include "util/clock.h"
#include "util/dir_walk.h"
#include "util/fd_io.h"
#include "util/file_util.h"
#include "util/temp_name.h"

namespace strata {
namespace {

constexpr const char* kUploadsDir = ".uploads";
constexpr const char* kMarkerName = "upload.json";
constexpr std::string_view kTmpUploadIdPrefix = "tmp:";
constexpr size_t kUploadIdHex = 32;

bool IsLowerHex(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

std::string EtagOf(const DirEntry& e) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%llx-%llx", static_cast<unsigned long long>(e.size),
                static_cast<unsigned long long>(e.mtime_ns));
  return buf;
}

std::string PartName(int n) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "part-%05d", n);
  return buf;
}

bool ParsePartName(std::string_view name, int* n) {
  if (name.size() != 10 || name.substr(0, 5) != "part-") return false;
  int v = 0;
  for (char c : name.substr(5)) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *n = v;
  return v >= 1 && v <= LocalColdStore::kMaxPartNumber;
}

// Splits "a/b/c" into ("a/b", "c") and "c" into ("", "c").
std::pair<std::string, std::string> SplitKey(const std::string& key) {
  size_t slash = key.rfind('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

std::string JoinRel(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

bool StartsWith(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

// Walks the files whose keys can start with PREFIX: from the directory of PREFIX ("a/b/c"
// and "a/b/" -> "a/b") into the directories (never dot-directories such as .uploads) whose
// keys can match it.
Status WalkPrefix(const std::string& root, const std::string& prefix, const WalkVisit& visit) {
  size_t slash = prefix.rfind('/');
  const std::string start = slash == std::string::npos ? "" : prefix.substr(0, slash);
  auto descend = [&prefix](const std::string& rel_sub, const std::string& name) {
    if (name[0] == '.') return false;
    const std::string sub = rel_sub + "/";
    return StartsWith(sub, prefix) || StartsWith(prefix, sub);
  };
  return WalkFiles(root, start, descend, visit);
}

// Opens KEY's file for reading; kNotFound unless it is a regular file.
Result<int> OpenObject(const std::string& path, const std::string& key, struct stat* st) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::NotFound("no object " + key);
    return Status::FromErrno(errno, "open " + path);
  }
  if (::fstat(fd, st) != 0) {
    int err = errno;
    ::close(fd);
    return Status::FromErrno(err, "stat " + path);
  }
  if (!S_ISREG(st->st_mode)) {
    ::close(fd);
    return Status::NotFound("no object " + key);
  }
  return fd;
}

}  // namespace

// ---------------------------------------------------------------------------------------
class LocalObjectUpload final : public ObjectUpload {
 public:
  LocalObjectUpload(LocalColdStore* store, std::string key, std::string id)
      : store_(store), key_(std::move(key)), id_(std::move(id)), dir_(store->StagingDir(id_)) {}

  ~LocalObjectUpload() override {
    if (state_.load() == State::kOpen) {
      Status s = Abort();
      if (!s.ok()) spdlog::warn("cold: abort of unfinished upload of {} failed: {}", key_, s.ToString());
    }
  }

  Status PutPart(int part_number, std::string_view data) override {
    if (state_.load() != State::kOpen) {
      return Status::InvalidArgument("upload of " + key_ + " is already completed or aborted");
    }
    if (part_number < 1 || part_number > LocalColdStore::kMaxPartNumber) {
      return Status::InvalidArgument("part number " + std::to_string(part_number) +
                                     " outside 1..10000");
    }
    std::string name = PartName(part_number);
    std::string tmp = dir_ + "/" + TempName(name);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      if (errno == ENOENT) {
        return Status::NotFound("upload " + id_ + " of " + key_ + " no longer exists");
      }
      return Status::FromErrno(errno, "create " + tmp);
    }
    Status s = WriteAll(fd, data, tmp);
    if (::close(fd) != 0 && s.ok()) s = Status::FromErrno(errno, "close " + tmp);
    if (s.ok() && ::rename(tmp.c_str(), (dir_ + "/" + name).c_str()) != 0) {
      s = Status::FromErrno(errno, "rename " + tmp);
    }
    if (!s.ok()) ::unlink(tmp.c_str());
    return s;
  }

  Status Complete() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_.load() == State::kCompleted) return Status::OK();
    if (state_.load() == State::kAborted) {
      return Status::InvalidArgument("upload of " + key_ + " was aborted");
    }
    // The parts on disk, by number.
    auto entries = ListDirEntries(dir_);
    if (!entries.ok()) {
      if (entries.status().IsNotFound()) return Status::NotFound("upload " + id_ + " of " + key_ + " no longer exists");
      return entries.status();
    }
    std::vector<std::pair<int, uint64_t>> parts;
    for (const DirEntry& e : entries.value()) {
      int n;
      if (e.type == DirEntry::Type::kFile && ParsePartName(e.name, &n)) parts.emplace_back(n, e.size);
    }
    if (parts.empty()) return Status::InvalidArgument("upload of " + key_ + " has no parts");
    std::sort(parts.begin(), parts.end());
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      if (parts[i].second < store_->min_part_size()) {
        return Status::InvalidArgument(
            "part " + std::to_string(parts[i].first) + " of " + key_ + " is " +
            std::to_string(parts[i].second) + " bytes, below the minimum part size " +
            std::to_string(store_->min_part_size()) + " (only the last part may be smaller)");
      }
    }
    STRATA_RETURN_IF_ERROR(store_->WriteObject(key_, [&](int fd, const std::string& tmp) {
      for (const auto& [n, size] : parts) {
        STRATA_RETURN_IF_ERROR(AppendFileTo(fd, dir_ + "/" + PartName(n), tmp));
      }
      return Status::OK();
    }));
    state_.store(State::kCompleted);
    // The object is in place; a staging dir left behind is listed as pending and aborted later.
    if (Status s = RemoveStaging(); !s.ok()) {
      spdlog::warn("cold: completed {} but could not remove its staging dir: {}", key_, s.ToString());
    }
    return Status::OK();
  }

  Status Abort() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_.load() != State::kOpen) return Status::OK();
    Status s = RemoveStaging();
    if (s.ok()) state_.store(State::kAborted);
    return s;
  }

 private:
  enum class State { kOpen, kCompleted, kAborted };

  Status RemoveStaging() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    if (ec) return Status::FromErrno(ec.value(), "remove " + dir_);
    return Status::OK();
  }

  LocalColdStore* store_;
  const std::string key_;
  const std::string id_;
  const std::string dir_;
  std::mutex mu_;  // serialises Complete and Abort
  std::atomic<State> state_{State::kOpen};
};

// ---------------------------------------------------------------------------------------
Result<std::unique_ptr<LocalColdStore>> LocalColdStore::Open(const std::string& root,
                                                             uint64_t min_part_size) {
  if (root.empty()) return Status::InvalidArgument("local cold store: empty directory");
  std::string r = root;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  STRATA_RETURN_IF_ERROR(MakeDirs(r));
  struct stat st{};
  if (::stat(r.c_str(), &st) != 0) return Status::FromErrno(errno, "stat " + r);
  if (!S_ISDIR(st.st_mode)) return Status::InvalidArgument("local cold store: " + r + " is not a directory");
  return std::unique_ptr<LocalColdStore>(new LocalColdStore(std::move(r), min_part_size));
}

std::string LocalColdStore::Describe() const { return "local:" + root_; }

std::string LocalColdStore::PathOf(const std::string& key) const { return root_ + "/" + key; }

std::string LocalColdStore::StagingDir(const std::string& upload_id) const {
  return root_ + "/" + kUploadsDir + "/" + upload_id;
}

Status LocalColdStore::EnsureDir(const std::string& rel_dir) const {
  // A concurrent Delete prunes empty directories, so any step of the walk may find a
  // directory gone (ENOENT) that it just made or saw: walk again from the root.
  for (int attempt = 0;; ++attempt) {
    Status s = EnsureDirOnce(rel_dir);
    if (s.code() != Status::Code::kNotFound || attempt >= kPruneRetries) return s;
  }
}

Status LocalColdStore::EnsureDirOnce(const std::string& rel_dir) const {
  std::string cur = root_;
  size_t start = 0;
  while (start < rel_dir.size()) {
    size_t end = rel_dir.find('/', start);
    if (end == std::string::npos) end = rel_dir.size();
    std::string parent = cur;
    cur += "/" + rel_dir.substr(start, end - start);
    if (::mkdir(cur.c_str(), 0755) == 0) {
      STRATA_RETURN_IF_ERROR(SyncDir(parent));
    } else if (errno == EEXIST) {
      struct stat st{};
      if (::stat(cur.c_str(), &st) != 0) return Status::FromErrno(errno, "stat " + cur);
      if (!S_ISDIR(st.st_mode)) {
        return Status::Conflict("object " + cur.substr(root_.size() + 1) +
                                " exists where a directory is needed");
      }
    } else if (errno == ENOTDIR) {
      return Status::Conflict("an object is in the way of directory " + cur);
    } else {
      return Status::FromErrno(errno, "mkdir " + cur);
    }
    start = end + 1;
  }
  return Status::OK();
}

Status LocalColdStore::WriteObject(
    const std::string& key, const std::function<Status(int fd, const std::string& tmp)>& write_body) {
  auto [rel_dir, base] = SplitKey(key);
  std::string dir = JoinRel(root_, rel_dir);
  for (int attempt = 0;; ++attempt) {
    STRATA_RETURN_IF_ERROR(EnsureDir(rel_dir));
    std::string tmp = dir + "/" + TempName(base);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      // A concurrent Delete may have pruned the directory we just made: make it again.
      if (errno == ENOENT && attempt < kPruneRetries) continue;
      return Status::FromErrno(errno, "create " + tmp);
    }
    Status s = write_body(fd, tmp);
    if (s.ok() && ::fsync(fd) != 0) s = Status::FromErrno(errno, "fsync " + tmp);
    if (::close(fd) != 0 && s.ok()) s = Status::FromErrno(errno, "close " + tmp);
    if (s.ok() && ::rename(tmp.c_str(), PathOf(key).c_str()) != 0) {
      if (errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST) {
        s = Status::Conflict("key " + key + " is a prefix of other objects in " + Describe());
      } else {
        s = Status::FromErrno(errno, "rename " + tmp);
      }
    }
    if (!s.ok()) {
      ::unlink(tmp.c_str());
      return s;
    }
    return SyncDir(dir);
  }
}

void LocalColdStore::PruneEmptyDirs(std::string rel_dir) const {
  while (!rel_dir.empty()) {
    if (::rmdir(JoinRel(root_, rel_dir).c_str()) != 0) return;  // not empty (or gone)
    size_t slash = rel_dir.rfind('/');
    rel_dir = slash == std::string::npos ? "" : rel_dir.substr(0, slash);
  }
}

Status LocalColdStore::Put(const std::string& key, std::string_view data) {
  STRATA_RETURN_IF_ERROR(ValidateObjectKey(key));
  return WriteObject(key, [data](int fd, const std::string& tmp) { return WriteAll(fd, data, tmp); });
}

Result<std::unique_ptr<ObjectUpload>> LocalColdStore::StartUpload(const std::string& key) {
  STRATA_RETURN_IF_ERROR(ValidateObjectKey(key));
  STRATA_RETURN_IF_ERROR(EnsureDir(kUploadsDir));
  std::string id = RandomHex(kUploadIdHex);
  std::string dir = StagingDir(id);
  if (::mkdir(dir.c_str(), 0755) != 0) return Status::FromErrno(errno, "mkdir " + dir);
  nlohmann::json marker = {{"key", key}, {"initiated_ms", NowMs()}};
  Status s = WriteFileAtomic(dir + "/" + kMarkerName, marker.dump());
  if (s.ok()) s = SyncDir(root_ + "/" + kUploadsDir);
  if (!s.ok()) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return s;
  }
  return std::unique_ptr<ObjectUpload>(new LocalObjectUpload(this, key, id));
}

Result<std::string> LocalColdStore::GetRange(const std::string& key, uint64_t offset,
                                             uint64_t length) {
  STRATA_RETURN_IF_ERROR(ValidateObjectKey(key));
  if (length == 0) return Status::InvalidArgument("empty range of " + key);
  std::string path = PathOf(key);
  struct stat st{};
  STRATA_ASSIGN_OR_RETURN(int fd, OpenObject(path, key, &st));
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (offset > size || length > size - offset) {
    ::close(fd);
    return Status::InvalidArgument("range [" + std::to_string(offset) + ", +" +
                                   std::to_string(length) + ") is past the end of " + key +
                                   " (" + std::to_string(size) + " bytes)");
  }
  std::string out(length, '\0');
  Status s = PreadExact(fd, out.data(), out.size(), offset, path);
  ::close(fd);
  if (!s.ok()) return s;
  return out;
}

Result<std::string> LocalColdStore::Get(const std::string& key) {
  STRATA_RETURN_IF_ERROR(ValidateObjectKey(key));
  std::string path = PathOf(key);
  struct stat st{};
  STRATA_ASSIGN_OR_RETURN(int fd, OpenObject(path, key, &st));
  std::string out(static_cast<size_t>(st.st_size), '\0');
  Status s = PreadExact(fd, out.data(), out.size(), 0, path);
  ::close(fd);
  if (!s.ok()) return s;
  return out;
}

Result<ObjectInfo> LocalColdStore::Head(const std::string& key) {
  STRATA_RETURN_IF_ERROR(ValidateObjectKey(key));
  auto e = StatPath(PathOf(key));
  if (!e.ok()) return e.status().IsNotFound() ? Status::NotFound("no object " + key) : e.status();
  if (e->type != DirEntry::Type::kFile) return Status::NotFound("no object " + key);
  return ObjectInfo{key, e->size, EtagOf(*e), e->mtime_ms()};
}

Result<std::vector<ObjectInfo>> LocalColdStore::List(const std::string& prefix) {
  STRATA_RETURN_IF_ERROR(ValidateKeyPrefix(prefix));
  std::vector<ObjectInfo> out;
  STRATA_RETURN_IF_ERROR(WalkPrefix(root_, prefix, [&](const std::string& rel_dir, const DirEntry& f) {
    if (f.name[0] == '.') return;
    std::string key = JoinRel(rel_dir, f.name);
    if (!StartsWith(key, prefix)) return;
    out.push_back({key, f.size, EtagOf(f), f.mtime_ms()});
  }));
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

Status LocalColdStore::Delete(const std::string& key) {
  STRATA_RETURN_IF_ERROR(ValidateObjectKey(key));
  std::string path = PathOf(key);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT || errno == ENOTDIR || errno == EISDIR) return Status::OK();
    return Status::FromErrno(errno, "unlink " + path);
  }
  auto [rel_dir, base] = SplitKey(key);
  Status synced = SyncDir(JoinRel(root_, rel_dir));
  // NotFound: a concurrent Delete already pruned the (then empty) directory, entry and all.
  if (!synced.ok() && synced.code() != Status::Code::kNotFound) return synced;
  PruneEmptyDirs(rel_dir);
  return Status::OK();
}

Result<std::vector<PendingUpload>> LocalColdStore::ListPendingUploads(const std::string& prefix) {
  STRATA_RETURN_IF_ERROR(ValidateKeyPrefix(prefix));
  std::vector<PendingUpload> out;
  // Multipart uploads.
  std::string uploads = root_ + "/" + kUploadsDir;
  auto staged = ListDirEntries(uploads);
  if (!staged.ok() && !staged.status().IsNotFound()) return staged.status();
  for (const DirEntry& e : staged.ok() ? staged.value() : std::vector<DirEntry>{}) {
    if (e.name[0] == '.' || e.type != DirEntry::Type::kDir) continue;
    PendingUpload p{"", e.name, e.mtime_ms()};
    auto marker = ReadFile(uploads + "/" + e.name + "/" + kMarkerName);
    if (marker.ok()) {
      auto j = nlohmann::json::parse(*marker, nullptr, /*allow_exceptions=*/false);
      if (j.is_object() && j.contains("key") && j["key"].is_string()) {
        p.key = j["key"].get<std::string>();
      }
      if (j.is_object() && j.contains("initiated_ms") && j["initiated_ms"].is_number_integer()) {
        p.initiated_ms = j["initiated_ms"].get<int64_t>();
      }
    }
    // An upload whose marker never got written has key "": only an unfiltered listing
    // (a full cleanup sweep) sees it.
    if (StartsWith(p.key, prefix)) out.push_back(std::move(p));
  }
  // Temp files of interrupted Puts and Completes.
  STRATA_RETURN_IF_ERROR(WalkPrefix(root_, prefix, [&](const std::string& rel_dir, const DirEntry& f) {
    std::string base;
    if (!ParseTempName(f.name, &base)) return;
    std::string key = JoinRel(rel_dir, base);
    if (!StartsWith(key, prefix)) return;
    out.push_back({key, std::string(kTmpUploadIdPrefix) + JoinRel(rel_dir, f.name), f.mtime_ms()});
  }));
  std::sort(out.begin(), out.end(), [](const PendingUpload& a, const PendingUpload& b) {
    return std::tie(a.key, a.upload_id) < std::tie(b.key, b.upload_id);
  });
  return out;
}

Status LocalColdStore::AbortPendingUpload(const PendingUpload& upload) {
  const std::string& id = upload.upload_id;
  if (id.compare(0, kTmpUploadIdPrefix.size(), kTmpUploadIdPrefix) == 0) {
    std::string rel = id.substr(kTmpUploadIdPrefix.size());
    auto [rel_dir, name] = SplitKey(rel);
    std::string base;
    if (!ParseTempName(name, &base) || (!rel_dir.empty() && !ValidateObjectKey(rel_dir).ok())) {
      return Status::InvalidArgument("not a pending upload id: " + id);
    }
    if (::unlink(JoinRel(root_, rel).c_str()) != 0 && errno != ENOENT) {
      return Status::FromErrno(errno, "unlink " + JoinRel(root_, rel));
    }
    return Status::OK();
  }
  if (id.size() != kUploadIdHex || !IsLowerHex(id)) {
    return Status::InvalidArgument("not a pending upload id: " + id);
  }
  std::error_code ec;
  std::filesystem::remove_all(StagingDir(id), ec);
  if (ec) return Status::FromErrno(ec.value(), "remove " + StagingDir(id));
  return Status::OK();
}

}  // namespace strata
