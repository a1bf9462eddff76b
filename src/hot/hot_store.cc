#include "hot/hot_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <random>

#include "util/checksum.h"
#include "util/env.h"
#include "util/file_util.h"

namespace strata {

HotStore::HotStore(std::string root, const std::string& node_id) : root_(std::move(root)) {
  std::string node;
  for (char c : node_id) node += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.') ? c : '_';
  incoming_ = JoinPath(JoinPath(root_, ".incoming"), node.empty() ? "local" : node);
}

Status HotStore::Init() {
  STRATA_RETURN_IF_ERROR(MakeDirs(incoming_));
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(incoming_, ec)) std::filesystem::remove(e.path(), ec);
  // Temp files of an interrupted rename elsewhere in the tree are named *.tmp-*; they are
  // only created by WriteFileAtomic, which the hot tier does not use, so nothing else to scan.
  return Status::OK();
}

std::string HotStore::NewIncomingPath() {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return JoinPath(incoming_, std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
                                 HexU64(rng()).substr(0, 8) + ".part");
}

std::string HotStore::RelativePathFor(const InstanceRecord& r) {
  const std::string h = HexU64(Xxh3(r.study_uid));
  return h.substr(0, 2) + "/" + h.substr(2, 2) + "/" + r.study_uid + "/" + r.series_uid + "/" + r.sop_uid + "." +
         r.checksum.substr(0, 8) + ".dcm";
}

std::string HotStore::NewRelativePath(const InstanceRecord& r) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::string base = RelativePathFor(r);  // <...>/<sop>.<checksum8>.dcm
  return base.substr(0, base.size() - 4) + "." + HexU64(rng()).substr(0, 8) + ".dcm";
}

std::string HotStore::AbsolutePath(const std::string& relative) const { return JoinPath(root_, relative); }

Status HotStore::Place(const std::string& temp, const std::string& relative) {
  // Create the directory chain.
  std::string dir = root_;
  size_t pos = 0;
  const std::string rel_dir = DirName(relative);
  while (pos < rel_dir.size()) {
    size_t next = rel_dir.find('/', pos);
    if (next == std::string::npos) next = rel_dir.size();
    std::string child = JoinPath(dir, rel_dir.substr(pos, next - pos));
    if (::mkdir(child.c_str(), 0755) != 0 && errno != EEXIST) {
      return Status::FromErrno(errno, "mkdir " + child);
    }
    dir = child;
    pos = next + 1;
  }
  const std::string target = AbsolutePath(relative);
  return Env::Default()->RenameNoReplace(temp, target);
}

Result<std::string> HotStore::Read(const std::string& relative) const { return ReadFile(AbsolutePath(relative)); }

Status HotStore::Remove(const std::string& relative) { return RemoveFile(AbsolutePath(relative)); }

Result<uint64_t> HotStore::UsedBytes() const {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(root_, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

}  // namespace strata
