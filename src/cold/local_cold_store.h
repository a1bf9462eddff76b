// LocalColdStore: the ColdStore contract on a local (or shared) directory; the embedded
// default ("file:/dir").
//
// Layout under the root directory:
//   <key>                         one file per object ("a/b/c" -> subdirectories a/ and b/)
//   <dir>/.tmp-<16 hex>-<name>    a Put or Complete in progress (renamed over <name> at the end)
//   .uploads/<upload-id>/         a multipart upload: upload.json {"key","initiated_ms"} and
//                                 part-00001 ... part-10000
// Keys never have a component starting with '.', so listings skip dot-names and nothing a
// client stores can collide with the store's own files.
//
// Durability: Put and Complete write a temp file, fsync it, rename it into place and fsync
// the directory (and any directory they had to create), so after a crash an object is either
// whole or absent. Parts are not fsynced: an upload interrupted by a crash cannot be resumed,
// only aborted. Delete removes directories left empty.
//
// Limits of a file system: "a/b" and "a/b/c" cannot both be objects (kConflict).
// The minimum part size is S3's (5 MiB) by default so code tested here behaves on S3.
#pragma once

#include <memory>
#include <string>

#include "cold/cold_store.h"

namespace strata {

class LocalColdStore final : public ColdStore {
 public:
  static constexpr uint64_t kDefaultMinPartSize = 5ull << 20;
  static constexpr int kMaxPartNumber = 10000;

  // Creates ROOT if needed.
  static Result<std::unique_ptr<LocalColdStore>> Open(
      const std::string& root, uint64_t min_part_size = kDefaultMinPartSize);

  std::string Describe() const override;
  Status Put(const std::string& key, std::string_view data) override;
  Result<std::unique_ptr<ObjectUpload>> StartUpload(const std::string& key) override;
  uint64_t min_part_size() const override { return min_part_size_; }
  Result<std::string> GetRange(const std::string& key, uint64_t offset, uint64_t length) override;
  Result<std::string> Get(const std::string& key) override;
  Result<ObjectInfo> Head(const std::string& key) override;
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  Status Delete(const std::string& key) override;
  Result<std::vector<PendingUpload>> ListPendingUploads(const std::string& prefix) override;
  Status AbortPendingUpload(const PendingUpload& upload) override;

  const std::string& root() const { return root_; }

 private:
  friend class LocalObjectUpload;
  LocalColdStore(std::string root, uint64_t min_part_size)
      : root_(std::move(root)), min_part_size_(min_part_size) {}

  std::string PathOf(const std::string& key) const;
  std::string StagingDir(const std::string& upload_id) const;
  // Creates the directories of REL_DIR under the root, fsyncing each parent that gained one.
  Status EnsureDir(const std::string& rel_dir) const;
  // One walk of EnsureDir; NotFound (ENOENT) means a concurrent prune removed a directory.
  Status EnsureDirOnce(const std::string& rel_dir) const;
  static constexpr int kPruneRetries = 64;
  // Writes the file KEY from the chunks produced by WRITE_BODY(fd) durably (temp, fsync,
  // rename, fsync dir).
  Status WriteObject(const std::string& key,
                     const std::function<Status(int fd, const std::string& tmp)>& write_body);
  // Removes empty directories from REL_DIR up to (not including) the root.
  void PruneEmptyDirs(std::string rel_dir) const;

  std::string root_;
  uint64_t min_part_size_;
};

}  // namespace strata
