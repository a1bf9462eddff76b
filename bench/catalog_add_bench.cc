// strata-bench-catalog-add: the catalog's own share of ingest, Catalog::AddInstances per
// batch of N instances (one transaction, committed durably, as the group committer does),
// on whatever catalog --catalog names: bench/catalog-scale.sh runs it on an empty one and on
// one pre-filled with 1M instances. Rows are bench/synthetic_rows.h's (--template: the
// attributes and header JSON of a real CT slice), study numbers from --first on, so they
// never collide with the pre-filled ones.
//   strata-bench-catalog-add --catalog URL [--template CT.dcm] [--first N] [benchmark flags]
// Wall time (UseRealTime): a commit's fsync is part of the cost.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>

#include "index/catalog.h"
#include "synthetic_rows.h"

using namespace strata;

namespace {

std::unique_ptr<Catalog> g_catalog;
bench::SyntheticStudies g_gen;
uint64_t g_next_study = 50000000;
constexpr uint64_t kPerStudy = 360;

void BM_AddInstances(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  std::deque<InstanceRecord> pending;
  std::vector<InstanceRecord> batch;
  for (auto _ : state) {
    state.PauseTiming();
    batch.clear();
    while (batch.size() < n) {
      if (pending.empty())
        for (auto& r : g_gen.Study(g_next_study++, kPerStudy)) pending.push_back(std::move(r));
      batch.push_back(std::move(pending.front()));
      pending.pop_front();
    }
    state.ResumeTiming();
    auto r = g_catalog->AddInstances(batch, false);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_AddInstances)->Arg(1)->Arg(16)->Arg(256)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  std::string url, tmpl;
  // Our flags first; the rest goes to Google Benchmark.
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--catalog") && i + 1 < argc) url = argv[++i];
    else if (!std::strcmp(argv[i], "--template") && i + 1 < argc) tmpl = argv[++i];
    else if (!std::strcmp(argv[i], "--first") && i + 1 < argc) g_next_study = std::strtoull(argv[++i], nullptr, 10);
    else argv[out++] = argv[i];
  }
  argc = out;
  if (url.empty()) {
    std::fprintf(stderr, "usage: strata-bench-catalog-add --catalog URL [--template FILE] [--first N] [benchmark flags]\n");
    return 2;
  }
  if (!tmpl.empty()) {
    if (Status s = g_gen.LoadTemplate(tmpl); !s.ok()) {
      std::fprintf(stderr, "%s: %s\n", tmpl.c_str(), s.ToString().c_str());
      return 1;
    }
  }
  auto c = OpenCatalog({url});
  if (!c.ok()) {
    std::fprintf(stderr, "%s\n", c.status().ToString().c_str());
    return 1;
  }
  g_catalog = std::move(c).value();
  // (No Catalog::Stats() here: it reads every instance row, seconds at 1M.)
  benchmark::AddCustomContext("header_json_bytes", std::to_string(g_gen.header_json_bytes()));
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  g_catalog.reset();
  return 0;
}
