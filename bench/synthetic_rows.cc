#include "synthetic_rows.h"

#include <cstdio>

#include "dicom/dataset_reader.h"

namespace strata::bench {
namespace {

void ReplaceAll(std::string* s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (size_t p = 0; (p = s->find(from, p)) != std::string::npos; p += to.size()) s->replace(p, from.size(), to);
}

}  // namespace

SyntheticStudies::SyntheticStudies() {
  tmpl_.birth_date = "19600101";
  tmpl_.study_time = "120000";
  tmpl_.study_description = "FILL CT CHEST";
  tmpl_.modality = "CT";
  tmpl_.series_description = "AXIAL";
  tmpl_.series_number = 1;
  tmpl_.sop_class_uid = "1.2.840.10008.5.1.4.1.1.2";
  tmpl_.transfer_syntax = "1.2.840.10008.1.2.1";
  tmpl_.rows = tmpl_.columns = 512;
  tmpl_.frames = 1;
  tmpl_.size = 525000;
}

Status SyntheticStudies::LoadTemplate(const std::string& path) {
  InstanceRecord r;
  STRATA_RETURN_IF_ERROR(ReadInstanceAttributes(path, &r));
  r.size = 525000;
  tmpl_ = std::move(r);
  return Status::OK();
}

std::vector<InstanceRecord> SyntheticStudies::Study(uint64_t s, uint64_t per_study) const {
  static const char* kRoots[] = {"1.2.840.113619.2.55.3", "1.3.12.2.1107.5.1.4", "1.2.392.200036.9116.2.6.1",
                                 "1.3.46.670589.33.1.63", "1.2.826.0.1.3680043.9.7"};
  const uint64_t h = s * 0x9E3779B97F4A7C15ull;  // spreads consecutive studies over roots/devices
  const std::string base = std::string(kRoots[h % 5]) + "." + std::to_string(1000 + (h >> 20) % 9000) + "." +
                           std::to_string(20000101000000ull + (h >> 40) % 250000000ull) + "." + std::to_string(s);
  const std::string study_uid = base + ".1", series_uid = base + ".2";
  const uint64_t patient = (s + 1) / 2;
  char pid[32], date[16], name[48];
  std::snprintf(pid, sizeof pid, "FILL%07llu", (unsigned long long)patient);
  std::snprintf(name, sizeof name, "FILL^PATIENT%07llu", (unsigned long long)patient);
  std::snprintf(date, sizeof date, "%04llu%02llu%02llu", 2000 + (unsigned long long)(s % 25),
                1 + (unsigned long long)(s % 12), 1 + (unsigned long long)(s % 28));
  std::string study_json = tmpl_.header_json;
  ReplaceAll(&study_json, tmpl_.study_uid, study_uid);
  ReplaceAll(&study_json, tmpl_.series_uid, series_uid);
  ReplaceAll(&study_json, tmpl_.patient_id, pid);
  std::vector<InstanceRecord> out;
  out.reserve(per_study);
  for (uint64_t i = 1; i <= per_study; ++i) {
    InstanceRecord r = tmpl_;
    r.patient_id = pid;
    r.issuer.clear();
    r.patient_name = name;
    r.sex = s % 2 ? "F" : "M";
    r.study_uid = study_uid;
    r.study_date = date;
    r.accession = "ACC" + std::to_string(s);
    r.study_id = std::to_string(s % 10000);
    r.series_uid = series_uid;
    r.sop_uid = base + ".3." + std::to_string(i);
    r.instance_number = static_cast<int64_t>(i);
    r.checksum = "0123456789abcdef";
    r.dataset_checksum = "fedcba9876543210";
    r.received_ms = 1700000000000LL + static_cast<int64_t>(s);
    r.location = Location{};
    r.location.hot_path = "fill/" + r.sop_uid + ".dcm";
    if (!tmpl_.header_json.empty()) {
      r.header_json = study_json;
      ReplaceAll(&r.header_json, tmpl_.sop_uid, r.sop_uid);
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace strata::bench
