// PackWriter: streams an S-DICOM pack (docs/pack-format.md) into a sink, front to back.
// Contract: the sink receives the pack's bytes in order, exactly once each, and is never asked
// to seek; AddEntry validates its input and writes nothing when it fails; after the sink fails
// once, every later call returns that failure; Finish writes the manifest, the central
// directory and the end records and may be called once. The entry bytes are never modified.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "pack/pack_format.h"
#include "pack/zip_format.h"
#include "util/status.h"

namespace strata {

// What the caller knows about an entry; the writer computes sizes, offsets and checksums.
struct PackEntryInfo {
  std::string series_instance_uid;
  std::string sop_instance_uid;
  std::string sop_class_uid;
  std::string transfer_syntax;  // of the bytes handed to AddEntry
  // As received, when the entry was transcoded; empty / unset = the same as stored.
  std::string original_transfer_syntax;
  std::optional<uint64_t> original_size;
  std::optional<uint64_t> original_xxh3;
  bool lossless_verified = false;  // re-encoded and proven equal to the original (manifest field)
  // The catalog row's received time and data set checksum (manifest fields; 0 / empty = omitted).
  int64_t received_ms = 0;
  std::string dataset_xxh3;
};

struct PackWriterOptions {
  // Writes ZIP64 records (sizes, offsets, end records) even where the values fit in 32 bits.
  bool force_zip64 = false;
  // Member timestamps (Unix seconds, stored as MS-DOS time in UTC). Unset = 1980-01-01, so the
  // same entries and metadata always give byte-identical packs.
  std::optional<int64_t> modified_time;
};

struct PackSummary {
  std::vector<PackEntry> entries;  // in data order
  uint64_t total_size = 0;         // bytes handed to the sink
  uint64_t manifest_offset = 0;    // of the manifest's data
  uint64_t manifest_length = 0;
  uint32_t manifest_crc32 = 0;
  uint64_t manifest_xxh3 = 0;
  bool zip64 = false;  // the end records are ZIP64
};

class PackWriter {
 public:
  using Sink = std::function<Status(std::string_view)>;

  explicit PackWriter(Sink sink, PackWriterOptions options = {});
  PackWriter(const PackWriter&) = delete;
  PackWriter& operator=(const PackWriter&) = delete;
  PackWriter(PackWriter&&) = default;
  PackWriter& operator=(PackWriter&&) = default;

  // Appends one entry. DATA must be a complete DICOM Part 10 file (preamble + "DICM").
  // Returns the entry's record (data offset, length, checksums) as the manifest will hold it.
  // InvalidArgument for bad UIDs, non-Part-10 data, or a duplicate name / SOP Instance UID.
  Result<PackEntry> AddEntry(const PackEntryInfo& info, std::string_view data);

  // Writes the manifest (with STUDY_METADATA, a JSON object), the central directory and the
  // end records. InvalidArgument if no entry was added or the metadata is not an object.
  Result<PackSummary> Finish(const nlohmann::json& study_metadata);

  uint64_t bytes_written() const { return offset_; }
  size_t entry_count() const { return entries_.size(); }

 private:
  Status Emit(std::string_view bytes);
  Status CheckUsable() const;
  zip::StoredFile MakeFile(std::string name, uint32_t crc, uint64_t size) const;

  Sink sink_;
  PackWriterOptions options_;
  uint16_t dos_date_ = 0;
  uint16_t dos_time_ = 0;
  uint64_t offset_ = 0;
  Status failed_;
  bool finished_ = false;
  std::vector<PackEntry> entries_;
  std::vector<zip::StoredFile> files_;  // parallel to entries_ (+ the manifest at Finish)
  std::unordered_set<std::string> names_;
  std::unordered_set<std::string> sops_;
};

}  // namespace strata
