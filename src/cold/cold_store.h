// ColdStore: where packs live. The contract is that of an object store, so that a local
// directory and S3 behave alike: objects are immutable once written, there is no rename and
// no append, a listing may lag behind writes, and large objects are written in parts.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace strata {

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string etag;          // opaque; may be empty
  int64_t modified_ms = 0;
};

// An upload in progress. Parts are numbered from 1; parts may be added from several threads
// at once. Nothing is visible under the key until Complete() returns OK; Abort() (or the
// destructor of an upload never completed) discards everything.
class ObjectUpload {
 public:
  virtual ~ObjectUpload() = default;
  // Every part except the last must be at least ColdStore::min_part_size() bytes.
  virtual Status PutPart(int part_number, std::string_view data) = 0;
  virtual Status Complete() = 0;
  virtual Status Abort() = 0;
};

// A multipart upload that was started and never completed or aborted (after a crash).
struct PendingUpload {
  std::string key;
  std::string upload_id;
  int64_t initiated_ms = 0;
};

class ColdStore {
 public:
  virtual ~ColdStore() = default;
  // Human-readable name ("local:/data/cold", "s3://bucket@endpoint").
  virtual std::string Describe() const = 0;
  // Writes a small object in one request.
  virtual Status Put(const std::string& key, std::string_view data) = 0;
  // Starts a multipart upload of KEY.
  virtual Result<std::unique_ptr<ObjectUpload>> StartUpload(const std::string& key) = 0;
  virtual uint64_t min_part_size() const = 0;
  // Reads LENGTH bytes at OFFSET (one ranged read). Reading past the end is kInvalidArgument.
  virtual Result<std::string> GetRange(const std::string& key, uint64_t offset,
                                       uint64_t length) = 0;
  // Reads a whole object.
  virtual Result<std::string> Get(const std::string& key) = 0;
  virtual Result<ObjectInfo> Head(const std::string& key) = 0;
  // Lists keys starting with PREFIX (all pages).
  virtual Result<std::vector<ObjectInfo>> List(const std::string& prefix) = 0;
  // Deletes KEY; deleting a missing key is OK.
  virtual Status Delete(const std::string& key) = 0;
  // Uploads started and never finished (crash leftovers) under PREFIX, and their abort.
  virtual Result<std::vector<PendingUpload>> ListPendingUploads(const std::string& prefix) = 0;
  virtual Status AbortPendingUpload(const PendingUpload& upload) = 0;
};

struct ColdStoreOptions {
  // "file:/path/to/dir" (or a bare path) or "s3://bucket[/prefix]".
  std::string url;
  // S3 settings (ignored by the local store).
  std::string endpoint;       // e.g. http://127.0.0.1:7480 ; empty = AWS
  std::string region = "us-east-1";
  std::string access_key, secret_key;
  bool path_style = true;
  std::string ca_file;        // extra CA bundle for HTTPS
  int parallel_parts = 4;     // concurrent part uploads / ranged reads
  int timeout_ms = 30000;
  int max_retries = 4;
};

// Opens the store named by OPTIONS.url.
Result<std::unique_ptr<ColdStore>> OpenColdStore(const ColdStoreOptions& options);

}  // namespace strata
