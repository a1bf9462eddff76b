// strata-bench-fill: fills a Strata catalog with synthetic rows, fast, so the benchmark can
// measure C-FIND and ingest on a big archive without storing a million real files.
//   strata-bench-fill --catalog sqlite:DIR/catalog.db --studies 100000 --instances-per-study 10
// Rows go in through Catalog::AddInstances (the server's own write path, schema included) in
// big transactions. Every study has one CT series; two studies per patient; study dates spread
// over 2000..2024. The hot paths point at files that do not exist: C-FIND needs none.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "index/catalog.h"

using namespace strata;

int main(int argc, char** argv) {
  CLI::App app{"fill a Strata catalog with synthetic studies (benchmark helper)"};
  std::string url;
  uint64_t studies = 100000, per_study = 10, batch = 20000, first = 1;
  app.add_option("--catalog", url, "catalog URL, e.g. sqlite:/path/catalog.db")->required();
  app.add_option("--studies", studies, "studies to add");
  app.add_option("--instances-per-study", per_study, "instances per study");
  app.add_option("--batch", batch, "instances per transaction");
  app.add_option("--first", first, "number of the first study (to add more later)");
  CLI11_PARSE(app, argc, argv);

  auto catalog = OpenCatalog({url});
  if (!catalog.ok()) {
    std::fprintf(stderr, "strata-bench-fill: %s\n", catalog.status().ToString().c_str());
    return 1;
  }
  const std::string root = "1.2.826.0.1.3680043.10.1337.66";
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<InstanceRecord> recs;
  recs.reserve(batch);
  uint64_t added = 0;
  auto flush = [&]() -> bool {
    if (recs.empty()) return true;
    auto r = (*catalog)->AddInstances(recs, false);
    if (!r.ok()) {
      std::fprintf(stderr, "strata-bench-fill: %s\n", r.status().ToString().c_str());
      return false;
    }
    added += recs.size();
    recs.clear();
    return true;
  };
  for (uint64_t s = first; s < first + studies; ++s) {
    const uint64_t patient = (s + 1) / 2;
    char pid[32], date[16], name[48];
    std::snprintf(pid, sizeof pid, "FILL%07llu", (unsigned long long)patient);
    std::snprintf(name, sizeof name, "FILL^PATIENT%07llu", (unsigned long long)patient);
    std::snprintf(date, sizeof date, "%04llu%02llu%02llu", 2000 + (unsigned long long)(s % 25),
                  1 + (unsigned long long)(s % 12), 1 + (unsigned long long)(s % 28));
    const std::string study = root + ".1." + std::to_string(s);
    const std::string series = root + ".2." + std::to_string(s) + ".1";
    for (uint64_t i = 1; i <= per_study; ++i) {
      InstanceRecord r;
      r.patient_id = pid;
      r.patient_name = name;
      r.birth_date = "19600101";
      r.sex = s % 2 ? "F" : "M";
      r.study_uid = study;
      r.study_date = date;
      r.study_time = "120000";
      r.accession = "ACC" + std::to_string(s);
      r.study_id = std::to_string(s % 10000);
      r.study_description = "FILL CT CHEST";
      r.series_uid = series;
      r.modality = "CT";
      r.series_description = "AXIAL";
      r.series_number = 1;
      r.sop_uid = root + ".3." + std::to_string(s) + "." + std::to_string(i);
      r.sop_class_uid = "1.2.840.10008.5.1.4.1.1.2";
      r.transfer_syntax = "1.2.840.10008.1.2.1";
      r.instance_number = static_cast<int64_t>(i);
      r.rows = r.columns = 512;
      r.frames = 1;
      r.size = 525000;
      r.checksum = "0123456789abcdef";
      r.received_ms = 1700000000000LL + static_cast<int64_t>(s);
      r.location.hot_path = "fill/" + r.sop_uid + ".dcm";
      recs.push_back(std::move(r));
      if (recs.size() >= batch && !flush()) return 1;
    }
  }
  if (!flush()) return 1;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("strata-bench-fill: %llu studies, %llu instances in %.1f s (%.0f instances/s)\n",
              (unsigned long long)studies, (unsigned long long)added, secs, added / secs);
  return 0;
}
