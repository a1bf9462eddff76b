// strata-bench-fill: fills a Strata catalog with synthetic rows, fast, so the benchmark can
// measure C-FIND and ingest on a big archive without storing a million real files.
//   strata-bench-fill --catalog sqlite:DIR/catalog.db --studies 100000 --instances-per-study 10
//   strata-bench-fill --catalog URL --studies 2800 --instances-per-study 360 --template CT.dcm
// Rows go in through Catalog::AddInstances (the server's own write path: the same rows,
// counters and index entries a C-STORE makes, schema included) in big transactions; the
// rows themselves are bench/synthetic_rows.h's. The hot paths point at files that do not
// exist: C-FIND needs none.
// --jobs N: N writers at once (PostgreSQL takes concurrent writers; SQLite serialises them).
#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "index/catalog.h"
#include "synthetic_rows.h"

using namespace strata;

int main(int argc, char** argv) {
  CLI::App app{"fill a Strata catalog with synthetic studies (benchmark helper)"};
  std::string url, template_path;
  uint64_t studies = 100000, per_study = 10, batch = 20000, first = 1;
  int jobs = 1;
  app.add_option("--catalog", url, "catalog URL, e.g. sqlite:/path/catalog.db")->required();
  app.add_option("--studies", studies, "studies to add");
  app.add_option("--instances-per-study", per_study, "instances per study");
  app.add_option("--batch", batch, "instances per transaction");
  app.add_option("--first", first, "number of the first study (to add more later)");
  app.add_option("--template", template_path, "Part 10 file whose attributes and header JSON every row takes");
  app.add_option("--jobs", jobs, "concurrent writers (PostgreSQL)")->check(CLI::Range(1, 16));
  CLI11_PARSE(app, argc, argv);

  bench::SyntheticStudies gen;
  if (!template_path.empty()) {
    if (Status s = gen.LoadTemplate(template_path); !s.ok()) {
      std::fprintf(stderr, "strata-bench-fill: %s: %s\n", template_path.c_str(), s.ToString().c_str());
      return 1;
    }
  }
  auto catalog = OpenCatalog({url});
  if (!catalog.ok()) {
    std::fprintf(stderr, "strata-bench-fill: %s\n", catalog.status().ToString().c_str());
    return 1;
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::atomic<uint64_t> added{0}, next_study{first};
  std::atomic<bool> failed{false};
  // Each writer takes whole studies, so a study's rows never straddle two writers.
  auto writer = [&]() {
    std::vector<InstanceRecord> recs;
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
    for (;;) {
      const uint64_t s = next_study++;
      if (s >= first + studies || failed) break;
      for (auto& r : gen.Study(s, per_study)) recs.push_back(std::move(r));
      if (recs.size() >= batch && !flush()) failed = true;
    }
    if (!failed && !flush()) failed = true;
  };
  std::vector<std::thread> threads;
  for (int j = 0; j < jobs; ++j) threads.emplace_back(writer);
  for (auto& t : threads) t.join();
  if (failed) return 1;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("strata-bench-fill: %llu studies, %llu instances in %.1f s (%.0f instances/s), header_json %zu bytes\n",
              (unsigned long long)studies, (unsigned long long)added.load(), secs, added / secs,
              gen.header_json_bytes());
  return 0;
}
