#include "hot/durable_dirs.h"

#include <set>

#include "util/file_util.h"

namespace strata {
namespace {

// "a/b/c" -> "a/b"; "a" -> "" (the root).
std::string ParentOf(const std::string& rel) {
  const size_t slash = rel.rfind('/');
  return slash == std::string::npos ? std::string() : rel.substr(0, slash);
}

}  // namespace

DurableDirs::DurableDirs(Env* env, std::string root, size_t max_known)
    : env_(env), root_(std::move(root)), max_known_(max_known) {}

Status DurableDirs::SyncNames(const std::vector<std::string>& relative_paths) {
  std::set<std::string> to_sync;  // relative directories; "" is the root
  std::vector<std::pair<std::string, DirIdentity>> learnt;
  std::set<std::string> seen;
  for (const std::string& rel : relative_paths) {
    std::string dir = ParentOf(rel);
    to_sync.insert(dir);  // the file's own name
    // Up the chain until a directory whose name is known durable (then so are those above:
    // a directory made again would have made everything under it new as well).
    while (!dir.empty() && seen.insert(dir).second) {
      STRATA_ASSIGN_OR_RETURN(DirIdentity id, env_->DirectoryIdentity(JoinPath(root_, dir)));
      if (id.birth_ns >= 0) {
        std::lock_guard<std::mutex> lk(mu_);
        auto it = known_.find(dir);
        if (it != known_.end() && it->second == id) break;
      }
      to_sync.insert(ParentOf(dir));
      if (id.birth_ns >= 0) learnt.emplace_back(dir, id);
      dir = ParentOf(dir);
    }
  }
  for (const std::string& d : to_sync) {
    STRATA_RETURN_IF_ERROR(env_->SyncDir(d.empty() ? root_ : JoinPath(root_, d)));
    std::lock_guard<std::mutex> lk(mu_);
    ++dir_syncs_;
  }
  std::lock_guard<std::mutex> lk(mu_);
  if (known_.size() + learnt.size() > max_known_) known_.clear();
  for (auto& [dir, id] : learnt) known_[dir] = id;
  return Status::OK();
}

uint64_t DurableDirs::dir_syncs() const {
  std::lock_guard<std::mutex> lk(mu_);
  return dir_syncs_;
}

}  // namespace strata
