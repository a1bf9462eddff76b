#include "pack/pack_format.h"

#include "model/uid.h"

#include <cstdio>
#include <exception>

#include "util/checksum.h"
#include "util/utf8.h"

namespace strata {

std::string PackEntryName(std::string_view series, std::string_view sop) {
  std::string name;
  name.reserve(series.size() + sop.size() + 5);
  name.append(series).append("/").append(sop).append(".dcm");
  return name;
}

Status ParsePackEntryName(std::string_view name, std::string* series, std::string* sop) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("entry name '" + std::string(name.substr(0, 200)) +
                                   "' is not <SeriesInstanceUID>/<SOPInstanceUID>.dcm: " + why);
  };
  constexpr std::string_view kExt = ".dcm";
  if (name.size() <= kExt.size() || name.substr(name.size() - kExt.size()) != kExt)
    return bad("no .dcm suffix");
  size_t slash = name.find('/');
  if (slash == std::string_view::npos) return bad("no '/'");
  std::string_view s = name.substr(0, slash);
  std::string_view i = name.substr(slash + 1, name.size() - kExt.size() - slash - 1);
  Status st = ValidateUid(s, "series UID");
  if (!st.ok()) return bad(st.message());
  st = ValidateUid(i, "SOP instance UID");
  if (!st.ok()) return bad(st.message());
  if (series) series->assign(s);
  if (sop) sop->assign(i);
  return Status::OK();
}

std::string HexU32(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return std::string(buf, 8);
}

bool ParseHexU32(std::string_view hex, uint32_t* out) {
  if (hex.size() != 8) return false;
  uint64_t v = 0;
  std::string padded = "00000000" + std::string(hex);
  if (!ParseHexU64(padded, &v)) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

nlohmann::ordered_json PackEntryToJson(const PackEntry& e) {
  nlohmann::ordered_json j;
  j["name"] = e.name;
  j["series_instance_uid"] = e.series_instance_uid;
  j["sop_instance_uid"] = e.sop_instance_uid;
  j["sop_class_uid"] = e.sop_class_uid;
  j["transfer_syntax"] = e.transfer_syntax;
  j["original_transfer_syntax"] = e.original_transfer_syntax;
  j["original_size"] = e.original_size;
  j["original_xxh3"] = HexU64(e.original_xxh3);
  j["offset"] = e.offset;
  j["length"] = e.length;
  j["crc32"] = HexU32(e.crc32);
  j["xxh3"] = HexU64(e.xxh3);
  j["lossless_verified"] = e.lossless_verified;
  if (e.received_ms > 0) j["received_ms"] = e.received_ms;
  if (!e.dataset_xxh3.empty()) j["dataset_xxh3"] = e.dataset_xxh3;
  return j;
}

namespace {

// STUDY with every string (keys and values) made valid UTF-8: catalog rows written before
// text was decoded at ingest hold the bytes as received (Latin-1, KS X 1001, ...); their
// undecodable bytes become the lossless escape of util/utf8.h instead of failing the pack.
nlohmann::json ValidUtf8(const nlohmann::json& v) {
  if (v.is_string()) return EscapeInvalidUtf8(v.get_ref<const std::string&>());
  if (v.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& x : v) out.push_back(ValidUtf8(x));
    return out;
  }
  if (v.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (auto it = v.begin(); it != v.end(); ++it) out[EscapeInvalidUtf8(it.key())] = ValidUtf8(it.value());
    return out;
  }
  return v;
}

}  // namespace

Result<std::string> EncodeManifest(const nlohmann::json& study,
                                   const std::vector<PackEntry>& entries) {
  if (!study.is_object())
    return Status::InvalidArgument(std::string("pack study metadata must be a JSON object, not ") +
                                   study.type_name());
  try {
    nlohmann::ordered_json m;
    m["format"] = kPackFormatName;
    m["version"] = kPackFormatVersion;
    m["study"] = nlohmann::ordered_json(ValidUtf8(study));
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const PackEntry& e : entries) list.push_back(PackEntryToJson(e));
    m["entries"] = std::move(list);
    std::string out = m.dump(1);
    out.push_back('\n');
    return out;
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("pack study metadata cannot be encoded: ") +
                                   e.what());
  }
}

namespace {

// Field accessors that report the field by name; they never throw.
Status GetString(const nlohmann::json& obj, const char* key, std::string* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return Status::Corruption(std::string("missing field '") + key + "'");
  if (!it->is_string()) return Status::Corruption(std::string("field '") + key + "' is not a string");
  *out = it->get<std::string>();
  return Status::OK();
}
Status GetU64(const nlohmann::json& obj, const char* key, uint64_t* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return Status::Corruption(std::string("missing field '") + key + "'");
  if (!it->is_number_unsigned())
    return Status::Corruption(std::string("field '") + key + "' is not an unsigned integer");
  *out = it->get<uint64_t>();
  return Status::OK();
}
Status GetHex64(const nlohmann::json& obj, const char* key, uint64_t* out) {
  std::string s;
  STRATA_RETURN_IF_ERROR(GetString(obj, key, &s));
  if (!ParseHexU64(s, out))
    return Status::Corruption(std::string("field '") + key + "' is not 16 hex digits");
  return Status::OK();
}
Status GetHex32(const nlohmann::json& obj, const char* key, uint32_t* out) {
  std::string s;
  STRATA_RETURN_IF_ERROR(GetString(obj, key, &s));
  if (!ParseHexU32(s, out))
    return Status::Corruption(std::string("field '") + key + "' is not 8 hex digits");
  return Status::OK();
}

Status DecodeEntry(const nlohmann::json& j, PackEntry* e) {
  if (!j.is_object()) return Status::Corruption("not a JSON object");
  STRATA_RETURN_IF_ERROR(GetString(j, "name", &e->name));
  STRATA_RETURN_IF_ERROR(GetString(j, "series_instance_uid", &e->series_instance_uid));
  STRATA_RETURN_IF_ERROR(GetString(j, "sop_instance_uid", &e->sop_instance_uid));
  STRATA_RETURN_IF_ERROR(GetString(j, "sop_class_uid", &e->sop_class_uid));
  STRATA_RETURN_IF_ERROR(GetString(j, "transfer_syntax", &e->transfer_syntax));
  STRATA_RETURN_IF_ERROR(GetString(j, "original_transfer_syntax", &e->original_transfer_syntax));
  STRATA_RETURN_IF_ERROR(GetU64(j, "original_size", &e->original_size));
  STRATA_RETURN_IF_ERROR(GetHex64(j, "original_xxh3", &e->original_xxh3));
  STRATA_RETURN_IF_ERROR(GetU64(j, "offset", &e->offset));
  STRATA_RETURN_IF_ERROR(GetU64(j, "length", &e->length));
  STRATA_RETURN_IF_ERROR(GetHex32(j, "crc32", &e->crc32));
  STRATA_RETURN_IF_ERROR(GetHex64(j, "xxh3", &e->xxh3));
  // Added after version 1 shipped: packs written before it lack the field.
  if (auto it = j.find("lossless_verified"); it != j.end()) {
    if (!it->is_boolean()) return Status::Corruption("field 'lossless_verified' is not a boolean");
    e->lossless_verified = it->get<bool>();
  }
  // Added for rebuild-catalog (issue 16); absent in older packs.
  if (auto it = j.find("received_ms"); it != j.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0)
      return Status::Corruption("field 'received_ms' is not a non-negative integer");
    e->received_ms = it->get<int64_t>();
  }
  if (j.contains("dataset_xxh3")) {
    uint64_t unused = 0;
    STRATA_RETURN_IF_ERROR(GetHex64(j, "dataset_xxh3", &unused));
    e->dataset_xxh3 = j["dataset_xxh3"].get<std::string>();
  }
  return Status::OK();
}

}  // namespace

Result<PackManifest> DecodeManifest(std::string_view bytes) {
  nlohmann::json m = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr,
                                           /*allow_exceptions=*/false);
  if (m.is_discarded() && !IsValidUtf8(bytes)) {
    // A manifest with raw non-UTF-8 bytes in its strings (not written by Strata, whose
    // manifests are UTF-8, but a pack is a file anyone may have made): read it with those
    // bytes escaped. JSON's structure is ASCII, so only string contents change.
    const std::string escaped = EscapeInvalidUtf8(bytes);
    m = nlohmann::json::parse(escaped.begin(), escaped.end(), nullptr, /*allow_exceptions=*/false);
  }
  if (m.is_discarded()) return Status::Corruption("manifest is not valid JSON");
  if (!m.is_object()) return Status::Corruption("manifest is not a JSON object");
  std::string format;
  Status st = GetString(m, "format", &format);
  if (!st.ok()) return st.WithContext("manifest");
  if (format != kPackFormatName)
    return Status::Corruption("manifest format is '" + format.substr(0, 100) + "', not '" +
                              std::string(kPackFormatName) + "'");
  auto v = m.find("version");
  if (v == m.end() || !v->is_number_integer())
    return Status::Corruption("manifest: missing or non-integer 'version'");
  int64_t version = v->get<int64_t>();
  if (version < 1) return Status::Corruption("manifest version " + std::to_string(version) + " is invalid");
  if (version > kPackFormatVersion)
    return Status::InvalidArgument("pack format version " + std::to_string(version) +
                                   " is newer than this reader (" +
                                   std::to_string(kPackFormatVersion) + ")");
  PackManifest out;
  out.version = static_cast<int>(version);
  auto study = m.find("study");
  if (study == m.end() || !study->is_object())
    return Status::Corruption("manifest: missing or non-object 'study'");
  out.study = std::move(*study);
  auto entries = m.find("entries");
  if (entries == m.end() || !entries->is_array())
    return Status::Corruption("manifest: missing or non-array 'entries'");
  out.entries.resize(entries->size());
  for (size_t i = 0; i < entries->size(); ++i) {
    st = DecodeEntry((*entries)[i], &out.entries[i]);
    if (!st.ok()) {
      std::string label = "manifest entry #" + std::to_string(i);
      if (!out.entries[i].name.empty()) label += " (" + out.entries[i].name.substr(0, 200) + ")";
      return st.WithContext(label);
    }
  }
  return out;
}

}  // namespace strata
