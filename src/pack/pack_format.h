// The S-DICOM pack format (docs/pack-format.md): constants, entry naming, the per-entry record
// and the manifest (strata-manifest.json) encoding. Shared by PackWriter and PackReader.
// Contract: EncodeManifest/DecodeManifest are inverse (for UTF-8 study strings); DecodeManifest
// never throws and returns Corruption for a manifest that is not JSON or lacks a field,
// InvalidArgument for a newer format version; raw non-UTF-8 bytes in a manifest's strings are
// read in their escaped form.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace strata {

inline constexpr std::string_view kPackFormatName = "strata-pack";
inline constexpr int kPackFormatVersion = 1;
inline constexpr std::string_view kPackManifestName = "strata-manifest.json";
// A manifest larger than this is refused before it is read.
inline constexpr uint64_t kPackMaxManifestBytes = 512ull << 20;

// One DICOM entry of a pack, as the manifest records it.
struct PackEntry {
  std::string name;  // <series_instance_uid>/<sop_instance_uid>.dcm
  std::string series_instance_uid;
  std::string sop_instance_uid;
  std::string sop_class_uid;
  std::string transfer_syntax;           // of the bytes as stored
  std::string original_transfer_syntax;  // as received
  uint64_t original_size = 0;
  uint64_t original_xxh3 = 0;
  uint64_t offset = 0;  // of the entry's DATA from the start of the pack
  uint64_t length = 0;  // of the data
  uint32_t crc32 = 0;
  uint64_t xxh3 = 0;
  // The entry was re-encoded, decoded again and found equal to the original (every pixel
  // sample and attribute) before it went into the pack. Optional in the JSON (absent = false).
  bool lossless_verified = false;
  // What the catalog row of the instance held, so that `strata rebuild-catalog` can recreate
  // it from the pack alone: when it was received (Unix ms) and the XXH3 hex of its data set as
  // received (meta group excluded). Optional in the JSON (absent = 0 / empty: older packs).
  int64_t received_ms = 0;
  std::string dataset_xxh3;

  bool operator==(const PackEntry&) const = default;
};

// The parsed manifest.
struct PackManifest {
  int version = kPackFormatVersion;
  nlohmann::json study = nlohmann::json::object();
  std::vector<PackEntry> entries;  // in data order
};

// "<series>/<sop>.dcm" (no validation).
std::string PackEntryName(std::string_view series_instance_uid, std::string_view sop_instance_uid);
// Splits and validates an entry name; InvalidArgument unless it is <uid>/<uid>.dcm.
Status ParsePackEntryName(std::string_view name, std::string* series_instance_uid,
                          std::string* sop_instance_uid);

// 8 / 16 lowercase hex digits.
std::string HexU32(uint32_t v);
bool ParseHexU32(std::string_view hex, uint32_t* out);

// One entry as a JSON object with the manifest's field names.
nlohmann::ordered_json PackEntryToJson(const PackEntry& e);
// The manifest bytes (UTF-8 JSON). InvalidArgument if STUDY is not an object; bytes of its
// strings that are not UTF-8 are written in their lossless escaped form (util/utf8.h).
Result<std::string> EncodeManifest(const nlohmann::json& study, const std::vector<PackEntry>& entries);
Result<PackManifest> DecodeManifest(std::string_view bytes);

}  // namespace strata
