// WADO-RS /metadata (PS3.18 10.4.1.1.2): the DICOM JSON of every instance of a study, series
// or instance. The catalog rows name the instances and where they are; each instance's header
// (every attribute before Pixel Data) is read with a ranged read of its first bytes
// (header_reader.h) — never the pixel data — on several threads, and the encoded JSON is kept
// in a bounded LRU cache keyed by SOP Instance UID and stored checksum, so a repeated request
// (a viewer opening the same series again) opens no file at all. Pixel Data and other large
// binary values are BulkDataURIs to .../bulkdata/{tag}; AvailableTransferSyntaxUID (0008,3002)
// says in which syntax the instance is stored.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "archive/archive.h"
#include "util/status.h"

namespace strata::web {

class MetadataService {
 public:
  MetadataService(Archive* archive, size_t cache_bytes, int threads);

  // "[{...},{...}]" for RECORDS, in their order. BASE_URL is "http://host:port" (for the
  // BulkDataURIs). Fails when any header cannot be read (503 for an unreachable cold store).
  Result<std::string> Build(const std::vector<InstanceRecord>& records, const std::string& base_url);
  // The JSON object of one instance (cached).
  Result<std::shared_ptr<const std::string>> InstanceJson(const InstanceRecord& record, const std::string& base_url);

  struct Stats {
    uint64_t hits = 0, misses = 0, entries = 0, bytes = 0;
  };
  Stats stats();

 private:
  std::shared_ptr<const std::string> Lookup(const std::string& key);
  void Insert(const std::string& key, std::shared_ptr<const std::string> value);

  Archive* archive_;
  size_t cache_limit_;
  int threads_;
  std::mutex mu_;
  std::list<std::pair<std::string, std::shared_ptr<const std::string>>> lru_;  // most recent first
  std::unordered_map<std::string, decltype(lru_)::iterator> index_;
  size_t cache_bytes_ = 0;
  uint64_t hits_ = 0, misses_ = 0;
};

// The retrieve URL prefix of an instance: BASE/dicomweb/studies/S/series/SE/instances/I.
std::string InstanceUrl(const std::string& base_url, const InstanceRecord& r);

}  // namespace strata::web
