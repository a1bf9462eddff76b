// ColdStore: where packs live. The contract is that of an object store, so that a local
// directory and S3 behave alike: objects are immutable once written, there is no rename and
// no append, a listing may lag behind writes, and large objects are written in parts.
//
// Common rules for every implementation (tests/cold/cold_store_conformance.cc checks them):
// - Keys follow cold/object_key.h (a portable subset of S3 keys); a bad key or prefix is
//   kInvalidArgument and nothing is sent or written.
// - A missing object is kNotFound (Get, GetRange, Head); Delete of a missing key is OK.
// - Transient failures of a remote store (after the store's own retries) are kUnavailable.
// - Every method may be called from several threads at once.
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

// An upload in progress. Parts are numbered from 1 to 10000; parts may be added from several
// threads at once, in any order, and need not be contiguous (the object is the parts in
// ascending number); putting a number again replaces that part. Nothing is visible under the
// key until Complete() returns OK; Abort() (or the destructor of an upload never completed)
// discards everything. Only a process that dies mid-upload leaves it pending (see
// ColdStore::ListPendingUploads).
class ObjectUpload {
 public:
  virtual ~ObjectUpload() = default;
  // Every part except the last must be at least ColdStore::min_part_size() bytes; that is
  // checked by Complete() (kInvalidArgument), as S3 does. PutPart after Complete/Abort, or a
  // part number out of range, is kInvalidArgument.
  virtual Status PutPart(int part_number, std::string_view data) = 0;
  // Makes the object visible. No parts, or a part below the minimum size, is
  // kInvalidArgument (the upload stays open and can still be aborted). Calling it again after
  // success is a no-op; after Abort it is kInvalidArgument.
  virtual Status Complete() = 0;
  // Discards the parts. A no-op after Complete or a previous Abort.
  virtual Status Abort() = 0;
};

// A write that was started and never completed or aborted (after a crash): a multipart
// upload, or (local store) the temp file of an interrupted Put.
struct PendingUpload {
  std::string key;
  std::string upload_id;
  int64_t initiated_ms = 0;
};

class ColdStore {
 public:
  virtual ~ColdStore() = default;
  // Human-readable name ("local:/data/cold", "s3://bucket/prefix@http://host:port").
  virtual std::string Describe() const = 0;
  // Writes a small object in one request (durably: it survives a crash once this returns).
  virtual Status Put(const std::string& key, std::string_view data) = 0;
  // Starts a multipart upload of KEY.
  virtual Result<std::unique_ptr<ObjectUpload>> StartUpload(const std::string& key) = 0;
  virtual uint64_t min_part_size() const = 0;
  // Reads LENGTH (>= 1) bytes at OFFSET (one ranged read). Reading past the end (or LENGTH 0)
  // is kInvalidArgument; fewer bytes than asked is never returned.
  virtual Result<std::string> GetRange(const std::string& key, uint64_t offset,
                                       uint64_t length) = 0;
  // Reads a whole object.
  virtual Result<std::string> Get(const std::string& key) = 0;
  virtual Result<ObjectInfo> Head(const std::string& key) = 0;
  // Lists keys starting with PREFIX (a plain string prefix, all pages), sorted by key.
  virtual Result<std::vector<ObjectInfo>> List(const std::string& prefix) = 0;
  // Deletes KEY; deleting a missing key is OK.
  virtual Status Delete(const std::string& key) = 0;
  // Uploads started and never finished (crash leftovers) under PREFIX, and their abort.
  // Uploads still running in this or another process are listed too: callers abort only
  // those whose initiated_ms is old enough. Aborting one that is already gone is OK.
  virtual Result<std::vector<PendingUpload>> ListPendingUploads(const std::string& prefix) = 0;
  virtual Status AbortPendingUpload(const PendingUpload& upload) = 0;
};

struct ColdStoreOptions {
  // "file:/path/to/dir" (or "file:///path", or a bare path) or "s3://bucket[/prefix]".
  std::string url;
  // S3 settings (ignored by the local store). Empty strings fall back to the environment:
  // endpoint to AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (else AWS's regional endpoint),
  // region to AWS_REGION / AWS_DEFAULT_REGION (else us-east-1), keys to AWS_ACCESS_KEY_ID /
  // AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN.
  std::string endpoint;       // e.g. http://127.0.0.1:7480
  std::string region;
  std::string access_key, secret_key;
  std::string session_token;  // temporary credentials only
  bool path_style = true;     // false = virtual-hosted (bucket.host)
  std::string ca_file;        // extra CA bundle for HTTPS
  int parallel_parts = 4;     // concurrent part uploads / ranged reads (sizes the handle pool)
  int timeout_ms = 30000;     // per request
  int connect_timeout_ms = 5000;
  int max_retries = 4;        // on network errors, 5xx, 429 and 408
  bool sign_payload = true;   // SHA-256 of every body in the signature (else UNSIGNED-PAYLOAD)
};

// Opens the store named by OPTIONS.url.
Result<std::unique_ptr<ColdStore>> OpenColdStore(const ColdStoreOptions& options);

}  // namespace strata
