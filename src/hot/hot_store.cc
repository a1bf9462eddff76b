#include "hot/hot_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <sstream>

#include "util/checksum.h"
#include "util/file_util.h"
#include "util/log.h"
#include "util/temp_name.h"

namespace strata {
namespace {

// Field 22 (starttime) of /proc/<pid>/stat; kNotFound when the process does not exist.
Result<uint64_t> ProcessStartTime(int64_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ESRCH) return Status::NotFound("no process " + std::to_string(pid));
    return Status::FromErrno(errno, "open " + path);
  }
  std::string stat(4096, '\0');
  const ssize_t n = ::read(fd, stat.data(), stat.size());
  const int err = errno;
  ::close(fd);
  if (n < 0) {
    if (err == ESRCH) return Status::NotFound("no process " + std::to_string(pid));  // exited meanwhile
    return Status::FromErrno(err, "read " + path);
  }
  stat.resize(static_cast<size_t>(n));
  // The command name (field 2) is in parentheses and may itself hold spaces and ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return Status::Corruption("unreadable /proc stat of " + std::to_string(pid));
  std::istringstream fields(stat.substr(close + 1));
  std::string f;
  for (int i = 3; i <= 22; ++i) {
    if (!(fields >> f)) return Status::Corruption("short /proc stat of " + std::to_string(pid));
  }
  try {
    return static_cast<uint64_t>(std::stoull(f));
  } catch (...) {
    return Status::Corruption("bad start time in /proc stat of " + std::to_string(pid));
  }
}

bool AllDigits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string ProcessOwner::Name() const { return std::to_string(pid) + "-" + std::to_string(start_time); }

bool ProcessOwner::Parse(const std::string& name, ProcessOwner* out) {
  const size_t dash = name.find('-');
  if (dash == std::string::npos) return false;
  const std::string p = name.substr(0, dash), t = name.substr(dash + 1);
  if (!AllDigits(p) || !AllDigits(t) || p.size() > 18 || t.size() > 19) return false;
  out->pid = std::stoll(p);
  out->start_time = std::stoull(t);
  return true;
}

ProcessOwner ProcessOwner::Self() {
  ProcessOwner o;
  o.pid = ::getpid();
  auto t = ProcessStartTime(o.pid);
  o.start_time = t.ok() ? t.value() : 0;
  return o;
}

bool ProcessOwner::IsAlive(const ProcessOwner& owner) {
  auto t = ProcessStartTime(owner.pid);
  if (t.ok()) return t.value() == owner.start_time;  // another start time: the pid was reused
  return !t.status().IsNotFound();                   // unreadable: assume alive, keep its files
}

HotStore::HotStore(Env* env, std::string root, const std::string& node_id, HotStoreOptions options)
    : env_(env), root_(std::move(root)), options_(std::move(options)) {
  std::string node;
  for (char c : node_id) node += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.') ? c : '_';
  if (node.empty() || node == "." || node == "..") node = "local";
  incoming_ = JoinPath(JoinPath(JoinPath(root_, ".incoming"), node), options_.owner.Name());
}

Status HotStore::Init() {
  STRATA_RETURN_IF_ERROR(env_->MakeDirs(incoming_));
  // The root's own name: the group commit makes durable what is under the root
  // (hot/durable_dirs.h), so a root made just now must not vanish in a crash with it all.
  STRATA_RETURN_IF_ERROR(env_->SyncDir(DirName(root_)));
  return RemoveDeadIncoming(DirName(incoming_));
}

Status HotStore::RemoveDeadIncoming(const std::string& node_dir) {
  STRATA_ASSIGN_OR_RETURN(auto names, env_->ListDir(node_dir));
  const std::string own = options_.owner.Name();
  for (const auto& name : names) {
    const std::string path = JoinPath(node_dir, name);
    ProcessOwner owner;
    if (name != own && ProcessOwner::Parse(name, &owner) && env_->IsDirectory(path)) {
      if (options_.is_alive(owner)) continue;
      // Only unacknowledged partial data lives here: a store renames its file out before it
      // commits, so nothing a catalog row references is ever inside.
      auto files = env_->ListDir(path);
      if (!files.ok()) {
        if (files.status().IsNotFound()) continue;  // another process cleaned it meanwhile
        return files.status();
      }
      for (const auto& f : files.value()) STRATA_RETURN_IF_ERROR(env_->RemoveFile(JoinPath(path, f)));
      STRATA_RETURN_IF_ERROR(env_->RemoveDir(path));
      spdlog::info("event=incoming_cleanup owner={} files={}", name, files->size());
      continue;
    }
    // Legacy flat files "<pid>-<n>-<random>.part" of an older version: the pid alone tells.
    if (EndsWith(name, ".part")) {
      const size_t dash = name.find('-');
      const std::string p = name.substr(0, dash);
      if (dash == std::string::npos || !AllDigits(p) || p.size() > 18) continue;
      auto t = ProcessStartTime(std::stoll(p));
      if (t.ok() || !t.status().IsNotFound()) continue;  // that pid runs: maybe its owner
      STRATA_RETURN_IF_ERROR(env_->RemoveFile(path));
    }
  }
  return Status::OK();
}

std::string HotStore::NewIncomingPath() {
  static std::atomic<uint64_t> counter{0};
  return JoinPath(incoming_, std::to_string(counter++) + "-" + RandomHex(8) + ".part");
}

std::string HotStore::NewRelativePath(const InstanceRecord& r) {
  const std::string h = HexU64(Xxh3(r.study_uid));
  return h.substr(0, 2) + "/" + h.substr(2, 2) + "/" + r.study_uid + "/" + r.series_uid + "/" + r.sop_uid + "." +
         r.checksum.substr(0, 8) + "." + RandomHex(8) + ".dcm";
}

std::string HotStore::AbsolutePath(const std::string& relative) const { return JoinPath(root_, relative); }

Status HotStore::Place(const std::string& temp, const std::string& relative) {
  const std::string rel_dir = DirName(relative);
  // The reconciler removes empty directories past their grace period; if it took one of
  // ours between the mkdir and the rename, the rename sees ENOENT: make the chain again.
  // Most stores go into a series directory that exists already: try the rename first, and
  // make the directories only when it says one is missing.
  Status renamed = env_->RenameNoReplace(temp, AbsolutePath(relative));
  if (!renamed.IsNotFound() || !env_->FileSize(temp).ok()) return renamed;
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::string dir = root_;
    size_t pos = 0;
    while (pos < rel_dir.size()) {  // one level at a time (most levels exist already)
      size_t next = rel_dir.find('/', pos);
      if (next == std::string::npos) next = rel_dir.size();
      dir = JoinPath(dir, rel_dir.substr(pos, next - pos));
      STRATA_RETURN_IF_ERROR(env_->CreateDir(dir));
      pos = next + 1;
    }
    renamed = env_->RenameNoReplace(temp, AbsolutePath(relative));
    if (!renamed.IsNotFound() || !env_->FileSize(temp).ok()) return renamed;
  }
  return renamed;
}

Result<std::string> HotStore::Read(const std::string& relative) const { return env_->ReadFile(AbsolutePath(relative)); }

Status HotStore::Remove(const std::string& relative) { return env_->RemoveFile(AbsolutePath(relative)); }

Result<uint64_t> HotStore::UsedBytes() const {
  uint64_t total = 0;
  std::vector<std::string> stack{root_};
  while (!stack.empty()) {
    const std::string dir = stack.back();
    stack.pop_back();
    auto names = env_->ListDir(dir);
    if (!names.ok()) {
      if (names.status().IsNotFound()) continue;  // removed while we walked
      return names.status();
    }
    for (const auto& n : names.value()) {
      const std::string p = JoinPath(dir, n);
      if (env_->IsDirectory(p)) {
        stack.push_back(p);
      } else if (auto sz = env_->FileSize(p); sz.ok()) {
        total += sz.value();
      }
    }
  }
  return total;
}

}  // namespace strata
