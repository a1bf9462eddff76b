#include "util/fault_env.h"

#include <unistd.h>

#include <algorithm>

#include "util/file_util.h"

namespace strata {

class FaultWritableFile : public WritableFile {
 public:
  FaultWritableFile(FaultEnv* env, std::string path, std::unique_ptr<WritableFile> base,
                    std::shared_ptr<FaultEnv::FileState> state)
      : env_(env), path_(std::move(path)), base_(std::move(base)), state_(std::move(state)) {}
  Status Append(std::string_view data) override {
    std::lock_guard<std::mutex> lk(env_->mu_);
    STRATA_RETURN_IF_ERROR(env_->CheckLocked(FaultOp::kAppend, path_));
    STRATA_RETURN_IF_ERROR(base_->Append(data));
    state_->written += data.size();
    return Status::OK();
  }
  Status Sync() override {
    std::lock_guard<std::mutex> lk(env_->mu_);
    STRATA_RETURN_IF_ERROR(env_->CheckLocked(FaultOp::kSync, path_));
    STRATA_RETURN_IF_ERROR(base_->Sync());
    state_->durable = state_->written;
    return Status::OK();
  }
  Status Close() override { return base_->Close(); }

 private:
  FaultEnv* env_;
  std::string path_;
  std::unique_ptr<WritableFile> base_;
  std::shared_ptr<FaultEnv::FileState> state_;
};

FaultEnv::FaultEnv(Env* base, uint64_t seed) : base_(base), rng_(seed) {}
FaultEnv::~FaultEnv() = default;

void FaultEnv::AddFault(FaultRule rule) {
  std::lock_guard<std::mutex> lk(mu_);
  rules_.push_back(std::move(rule));
  rule_seen_.push_back(0);
  rule_failed_.push_back(0);
}

void FaultEnv::ClearFaults() {
  std::lock_guard<std::mutex> lk(mu_);
  rules_.clear();
  rule_seen_.clear();
  rule_failed_.clear();
}

void FaultEnv::CrashAfter(uint64_t n) {
  std::lock_guard<std::mutex> lk(mu_);
  crash_at_ = n == 0 ? 0 : ops_ + n;
}

uint64_t FaultEnv::mutating_ops() const {
  std::lock_guard<std::mutex> lk(mu_);
  return ops_;
}

uint64_t FaultEnv::undone_by_last_crash() const {
  std::lock_guard<std::mutex> lk(mu_);
  return undone_;
}

Status FaultEnv::CheckLocked(FaultOp op, const std::string& path) {
  if (crashed_ || frozen_) return Status::IOError("simulated crash: the machine is down (" + path + ")");
  ++ops_;
  if (crash_at_ != 0 && ops_ >= crash_at_) frozen_ = true;  // this one still happens
  for (size_t i = 0; i < rules_.size(); ++i) {
    const FaultRule& r = rules_[i];
    if (r.op != op) continue;
    if (!r.path_contains.empty() && path.find(r.path_contains) == std::string::npos) continue;
    if (rule_seen_[i]++ < r.skip) continue;
    if (r.times >= 0 && rule_failed_[i] >= r.times) continue;
    if (r.probability < 1.0 && std::uniform_real_distribution<double>(0, 1)(rng_) >= r.probability) continue;
    ++rule_failed_[i];
    return r.error.WithContext(path);
  }
  return Status::OK();
}

Result<std::unique_ptr<WritableFile>> FaultEnv::NewWritableFile(const std::string& path) {
  std::lock_guard<std::mutex> lk(mu_);
  STRATA_RETURN_IF_ERROR(CheckLocked(FaultOp::kCreate, path));
  STRATA_ASSIGN_OR_RETURN(auto file, base_->NewWritableFile(path));
  auto state = std::make_shared<FileState>();
  files_[path] = state;
  pending_.push_back(Pending{Pending::kCreate, path, "", false, "", {DirName(path)}});
  return std::unique_ptr<WritableFile>(new FaultWritableFile(this, path, std::move(file), std::move(state)));
}

Result<std::unique_ptr<SequentialFile>> FaultEnv::NewSequentialFile(const std::string& path) {
  return base_->NewSequentialFile(path);
}

Status FaultEnv::CreateDirLocked(const std::string& dir) {
  if (base_->IsDirectory(dir)) return Status::OK();
  STRATA_RETURN_IF_ERROR(CheckLocked(FaultOp::kMkdir, dir));
  STRATA_RETURN_IF_ERROR(base_->CreateDir(dir));
  pending_.push_back(Pending{Pending::kMkdir, dir, "", false, "", {DirName(dir)}});
  return Status::OK();
}

Status FaultEnv::CreateDir(const std::string& dir) {
  std::lock_guard<std::mutex> lk(mu_);
  return CreateDirLocked(dir);
}

Status FaultEnv::MakeDirs(const std::string& dir) {
  std::lock_guard<std::mutex> lk(mu_);
  size_t pos = dir.empty() || dir[0] != '/' ? 0 : 1;
  while (pos <= dir.size()) {
    size_t next = dir.find('/', pos);
    if (next == std::string::npos) next = dir.size();
    if (next > pos) STRATA_RETURN_IF_ERROR(CreateDirLocked(dir.substr(0, next)));
    pos = next + 1;
  }
  return Status::OK();
}

Result<std::string> FaultEnv::DurableContentLocked(const std::string& path) {
  STRATA_ASSIGN_OR_RETURN(std::string bytes, base_->ReadFile(path));
  auto it = files_.find(path);
  if (it != files_.end() && bytes.size() > it->second->durable) bytes.resize(it->second->durable);
  return bytes;
}

Status FaultEnv::RenameLocked(const std::string& from, const std::string& to, bool no_replace) {
  STRATA_RETURN_IF_ERROR(CheckLocked(FaultOp::kRename, from + " -> " + to));
  Pending p{Pending::kRename, from, to, false, "", {DirName(from)}};
  if (DirName(to) != DirName(from)) p.dirs.push_back(DirName(to));
  if (!no_replace && base_->FileSize(to).ok()) {
    STRATA_ASSIGN_OR_RETURN(p.content, DurableContentLocked(to));
    p.restore = true;
  }
  STRATA_RETURN_IF_ERROR(no_replace ? base_->RenameNoReplace(from, to) : base_->RenameFile(from, to));
  files_.erase(to);
  if (auto it = files_.find(from); it != files_.end()) {
    files_[to] = it->second;
    files_.erase(from);
  }
  pending_.push_back(std::move(p));
  return Status::OK();
}

Status FaultEnv::RenameFile(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lk(mu_);
  return RenameLocked(from, to, false);
}

Status FaultEnv::RenameNoReplace(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lk(mu_);
  return RenameLocked(from, to, true);
}

Status FaultEnv::RemoveFile(const std::string& path) {
  std::lock_guard<std::mutex> lk(mu_);
  STRATA_RETURN_IF_ERROR(CheckLocked(FaultOp::kRemove, path));
  if (!base_->FileSize(path).ok()) return base_->RemoveFile(path);  // missing: nothing to undo
  Pending p{Pending::kRemove, path, "", true, "", {DirName(path)}};
  STRATA_ASSIGN_OR_RETURN(p.content, DurableContentLocked(path));
  STRATA_RETURN_IF_ERROR(base_->RemoveFile(path));
  files_.erase(path);
  pending_.push_back(std::move(p));
  return Status::OK();
}

Status FaultEnv::RemoveDir(const std::string& dir) {
  std::lock_guard<std::mutex> lk(mu_);
  STRATA_RETURN_IF_ERROR(CheckLocked(FaultOp::kRemoveDir, dir));
  if (!base_->IsDirectory(dir)) return Status::OK();
  STRATA_RETURN_IF_ERROR(base_->RemoveDir(dir));
  pending_.push_back(Pending{Pending::kRmdir, dir, "", false, "", {DirName(dir)}});
  return Status::OK();
}

Status FaultEnv::SyncFilesystem(const std::string& path) {
  std::lock_guard<std::mutex> lk(mu_);
  STRATA_RETURN_IF_ERROR(CheckLocked(FaultOp::kSyncFilesystem, path));
  STRATA_RETURN_IF_ERROR(base_->SyncFilesystem(path));
  for (auto& [p, st] : files_) st->durable = st->written;
  pending_.clear();
  return Status::OK();
}

Status FaultEnv::SyncDir(const std::string& dir) {
  std::lock_guard<std::mutex> lk(mu_);
  STRATA_RETURN_IF_ERROR(CheckLocked(FaultOp::kSyncDir, dir));
  STRATA_RETURN_IF_ERROR(base_->SyncDir(dir));
  for (auto& p : pending_) p.dirs.erase(std::remove(p.dirs.begin(), p.dirs.end(), dir), p.dirs.end());
  pending_.erase(std::remove_if(pending_.begin(), pending_.end(), [](const Pending& p) { return p.dirs.empty(); }),
                 pending_.end());
  return Status::OK();
}

Status FaultEnv::SyncFile(const std::string& path) {
  std::lock_guard<std::mutex> lk(mu_);
  STRATA_RETURN_IF_ERROR(CheckLocked(FaultOp::kSync, path));
  STRATA_RETURN_IF_ERROR(base_->SyncFile(path));
  if (auto it = files_.find(path); it != files_.end()) it->second->durable = it->second->written;
  return Status::OK();
}

Status FaultEnv::RestoreLocked(const std::string& path, const std::string& content) {
  (void)base_->RemoveFile(path);  // whatever a later (undone) operation left there goes
  STRATA_ASSIGN_OR_RETURN(auto f, base_->NewWritableFile(path));
  STRATA_RETURN_IF_ERROR(f->Append(content));
  STRATA_RETURN_IF_ERROR(f->Sync());
  return f->Close();
}

Status FaultEnv::RemoveTreeLocked(const std::string& dir) {
  if (!base_->IsDirectory(dir)) return Status::OK();
  auto names = base_->ListDir(dir);
  if (!names.ok()) return names.status().IsNotFound() ? Status::OK() : names.status();
  for (const auto& n : names.value()) {
    const std::string child = JoinPath(dir, n);
    if (base_->IsDirectory(child)) STRATA_RETURN_IF_ERROR(RemoveTreeLocked(child));
    else STRATA_RETURN_IF_ERROR(base_->RemoveFile(child));
  }
  return base_->RemoveDir(dir);
}

Status FaultEnv::SimulateCrash() {
  std::lock_guard<std::mutex> lk(mu_);
  Status first;
  auto note = [&first](Status s) {
    if (first.ok() && !s.ok()) first = std::move(s);
  };
  // Data first, at the files' current names; then the names, newest first.
  for (const auto& [path, st] : files_) {
    if (st->durable >= st->written) continue;
    if (::truncate(path.c_str(), static_cast<off_t>(st->durable)) != 0 && errno != ENOENT)
      note(Status::FromErrno(errno, "truncate " + path));
  }
  undone_ = pending_.size();
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
    switch (it->kind) {
      case Pending::kCreate:
        note(base_->RemoveFile(it->path));
        break;
      case Pending::kMkdir:
        // A directory whose own name is not durable takes what is inside with it, even
        // files synced on their own (after a real crash they are unreachable).
        note(RemoveTreeLocked(it->path));
        break;
      case Pending::kRmdir:
        note(base_->CreateDir(it->path));
        break;
      case Pending::kRemove:
        note(RestoreLocked(it->path, it->content));
        break;
      case Pending::kRename: {
        const bool to_durable =
            DirName(it->to) != DirName(it->path) &&
            std::find(it->dirs.begin(), it->dirs.end(), DirName(it->to)) == it->dirs.end();
        if (to_durable) {
          // The new name was synced and the old one was not: the new name stays, and the
          // old one may come back as well (the worst a filesystem may do: two names).
          auto bytes = base_->ReadFile(it->to);
          if (bytes.ok() && base_->IsDirectory(DirName(it->path))) note(RestoreLocked(it->path, bytes.value()));
        } else {
          if (base_->FileSize(it->to).ok()) note(base_->RenameFile(it->to, it->path));
          if (it->restore) note(RestoreLocked(it->to, it->content));
        }
        break;
      }
    }
  }
  pending_.clear();
  files_.clear();
  frozen_ = false;
  crash_at_ = 0;
  crashed_ = true;
  return first;
}

void FaultEnv::Reset() {
  std::lock_guard<std::mutex> lk(mu_);
  rules_.clear();
  rule_seen_.clear();
  rule_failed_.clear();
  files_.clear();
  pending_.clear();
  ops_ = 0;
  crash_at_ = 0;
  frozen_ = crashed_ = false;
}

Result<std::string> FaultEnv::ReadFile(const std::string& path) { return base_->ReadFile(path); }
Result<std::string> FaultEnv::ReadFileRange(const std::string& path, uint64_t offset, uint64_t length) {
  return base_->ReadFileRange(path, offset, length);
}
Result<uint64_t> FaultEnv::FileSize(const std::string& path) { return base_->FileSize(path); }
Result<std::vector<std::string>> FaultEnv::ListDir(const std::string& dir) { return base_->ListDir(dir); }
bool FaultEnv::IsDirectory(const std::string& path) { return base_->IsDirectory(path); }
Result<int64_t> FaultEnv::ModifiedMs(const std::string& path) { return base_->ModifiedMs(path); }
Result<DirIdentity> FaultEnv::DirectoryIdentity(const std::string& dir) { return base_->DirectoryIdentity(dir); }

}  // namespace strata
