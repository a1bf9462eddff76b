// S3ColdStore: the ColdStore contract on an S3 bucket ("s3://bucket[/prefix]") - Ceph RGW,
// MinIO, AWS S3 or any other S3 service - over libcurl and OpenSSL, without an SDK.
//
// Every request is signed with SigV4 (sigv4_signer.h); bodies carry Content-MD5 and, unless
// sign_payload is off, their SHA-256 in x-amz-content-sha256, so the server rejects a body
// damaged in transit. Put also stores an XXH3 of the object as x-amz-meta-xxh3, which Get
// verifies (kCorruption on mismatch); ranged reads are checked for the exact length and
// start, pack entries carry their own checksums for the rest.
//
// Failures: network errors, 5xx, 429/SlowDown and 408 are retried with exponential backoff
// and jitter (retry_policy.h) and end as kUnavailable when retries run out; other 4xx are not
// retried and come back with S3's Code and Message ("HTTP 403 AccessDenied: ..."): 404 and
// NoSuch* are kNotFound, 400/416 kInvalidArgument, BadDigest kCorruption, 409 kConflict,
// quota kNoSpace, the rest (403, redirects) kIOError. (s3_client.h sends and retries.)
//
// Multipart: parts may be uploaded from many threads at once (each request borrows a pooled
// keep-alive connection). Complete does not depend on the ETag in the response (radosgw
// sends an empty one); a Complete retried after a lost response that finds NoSuchUpload
// checks with HEAD that the object is there with the expected size.
//
// Files: s3_cold_store.cc (objects, listing, buckets), s3_multipart.cc (S3ObjectUpload and
// pending uploads), s3_client.cc (signed requests, retries, error mapping), s3_config.cc.
//
// Keys: the store's prefix is prepended on the way out and stripped from listings, so
// several stores (tests, tenants) can share a bucket.
#pragma once

#include <memory>
#include <string>

#include "cold/cold_store.h"
#include "cold/s3_client.h"
#include "cold/s3_config.h"

namespace strata {

class S3ColdStore final : public ColdStore {
 public:
  static Result<std::unique_ptr<S3ColdStore>> Open(S3Config config);

  std::string Describe() const override;
  Status Put(const std::string& key, std::string_view data) override;
  Result<std::unique_ptr<ObjectUpload>> StartUpload(const std::string& key) override;
  uint64_t min_part_size() const override { return client_.config().min_part_size; }
  Result<std::string> GetRange(const std::string& key, uint64_t offset, uint64_t length) override;
  Result<std::string> Get(const std::string& key) override;
  Result<ObjectInfo> Head(const std::string& key) override;
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  Status Delete(const std::string& key) override;
  Result<std::vector<PendingUpload>> ListPendingUploads(const std::string& prefix) override;
  Status AbortPendingUpload(const PendingUpload& upload) override;

  // Creates the bucket; OK if it already exists and this account can use it.
  Status CreateBucket();
  // Deletes the bucket (it must be empty); OK if it does not exist.
  Status DeleteBucket();

  const S3Config& config() const { return client_.config(); }
  const HttpClient& http() const { return client_.http(); }

 private:
  friend class S3ObjectUpload;

  S3ColdStore(S3Config config, S3Endpoint endpoint);
  std::string FullKey(const std::string& key) const;
  // FULL with the store's prefix removed; false if FULL is outside the prefix.
  bool StripPrefix(const std::string& full, std::string* key) const;

  S3Client client_;
};

}  // namespace strata
