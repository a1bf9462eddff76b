#include "net/web/metadata.h"

#include <atomic>
#include <thread>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include "codec/syntax_table.h"
#include "net/web/dicom_json.h"
#include "net/web/header_reader.h"

namespace strata::web {

std::string InstanceUrl(const std::string& base_url, const InstanceRecord& r) {
  return base_url + "/dicomweb/studies/" + r.study_uid + "/series/" + r.series_uid + "/instances/" + r.sop_uid;
}

MetadataService::MetadataService(Archive* archive, size_t cache_bytes, int threads)
    : archive_(archive), cache_limit_(cache_bytes), threads_(std::max(1, threads)) {}

std::shared_ptr<const std::string> MetadataService::Lookup(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void MetadataService::Insert(const std::string& key, std::shared_ptr<const std::string> value) {
  std::lock_guard<std::mutex> lock(mu_);
  if (index_.count(key) || value->size() > cache_limit_) return;
  lru_.emplace_front(key, value);
  index_[key] = lru_.begin();
  cache_bytes_ += value->size() + key.size();
  while (cache_bytes_ > cache_limit_ && !lru_.empty()) {
    auto& last = lru_.back();
    cache_bytes_ -= last.second->size() + last.first.size();
    index_.erase(last.first);
    lru_.pop_back();
  }
}

MetadataService::Stats MetadataService::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  return Stats{hits_, misses_, index_.size(), cache_bytes_};
}

Result<std::shared_ptr<const std::string>> MetadataService::InstanceJson(const InstanceRecord& r,
                                                                        const std::string& base_url) {
  const std::string& version =
      r.location.tier == Location::Tier::kCold && !r.location.entry_checksum.empty() ? r.location.entry_checksum
                                                                                     : r.checksum;
  // The study's corrections are part of the version: a correction serves new JSON at once.
  STRATA_ASSIGN_OR_RETURN(auto corrections, archive_->ListCorrections(r.study_uid));
  const std::string corrected =
      corrections.empty() ? "" : "|c" + std::to_string(corrections.back().change_id) + "." + std::to_string(corrections.size());
  const std::string key = base_url + "|" + r.sop_uid + "|" + version + corrected;
  if (auto hit = Lookup(key)) return hit;

  STRATA_ASSIGN_OR_RETURN(auto file, ReadInstanceHeader(archive_, r));
  DcmDataset* ds = file->getDataset();
  const std::string url = InstanceUrl(base_url, r);
  JsonEncodeOptions opts;
  opts.bulk_data_uri = [&url](Tag t) { return url + "/bulkdata/" + TagHex(t); };
  nlohmann::json j = DatasetToJson(*ds, opts);
  const std::string& syntax = StoredSyntax(r);
  if (ds->tagExists(DCM_Rows) && ds->tagExists(DCM_Columns)) {
    Uint16 bits = 0;
    ds->findAndGetUint16(DCM_BitsAllocated, bits);
    const codec::SyntaxInfo* info = codec::FindSyntax(syntax);
    const bool native = info == nullptr || !info->encapsulated();
    j[TagHex(kPixelDataTag)] = {{"vr", native && bits > 8 ? "OW" : "OB"},
                                {"BulkDataURI", url + "/bulkdata/" + TagHex(kPixelDataTag)}};
  }
  j["00083002"] = {{"vr", "UI"}, {"Value", {syntax}}};  // AvailableTransferSyntaxUID
  auto out = std::make_shared<const std::string>(DumpJson(j));
  Insert(key, out);
  return out;
}

Result<std::string> MetadataService::Build(const std::vector<InstanceRecord>& records, const std::string& base_url) {
  std::vector<std::shared_ptr<const std::string>> parts(records.size());
  std::vector<Status> errors(records.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < records.size();) {
      auto r = InstanceJson(records[i], base_url);
      if (r.ok()) parts[i] = std::move(r).value();
      else errors[i] = r.status();
    }
  };
  const size_t n = std::min<size_t>(static_cast<size_t>(threads_), records.size());
  std::vector<std::thread> pool;
  for (size_t t = 1; t < n; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  size_t total = 2;
  for (size_t i = 0; i < records.size(); ++i) {
    if (!errors[i].ok()) {
      // The catalog lists the instance: missing bytes mean the storage is unavailable (503).
      const Status& e = errors[i];
      return (e.IsNotFound() ? Status::Unavailable(e.message()) : e).WithContext("metadata of " + records[i].sop_uid);
    }
    total += parts[i]->size() + 1;
  }
  std::string out;
  out.reserve(total);
  out += '[';
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += ',';
    out += *parts[i];
  }
  out += ']';
  return out;
}

}  // namespace strata::web
