// strata-bench-read: how fast the archive reads what it holds, measured below the network
// layer (Archive::Read / PrefetchReader), so hot and cold, local and S3, compare directly.
//   strata-bench-read latency --samples 500 [settings]   one random instance at a time: p50/p99
//   strata-bench-read study --clients 1,2,4 [settings]    whole studies, N clients at once: MB/s
// Settings are the server's (`--data DIR`, `--cold s3://...`, env STRATA_*), so the bench
// reads the same catalog and stores a running server uses.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "archive/archive.h"
#include "archive/prefetch_reader.h"
#include "cli/serve_command.h"
#include "config/config.h"

using namespace strata;
using Clock = std::chrono::steady_clock;

namespace {

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * (v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

std::vector<std::string> AllStudies(Archive* a) {
  Query q;
  q.level = QueryLevel::kStudy;
  std::vector<std::string> out;
  auto r = a->Find(q);
  if (r.ok())
    for (auto& m : r.value()) out.push_back(m[tags::kStudyInstanceUID]);
  return out;
}

int Latency(Archive* a, int samples, const std::string& tier) {
  std::vector<InstanceRecord> pool;
  for (const auto& s : AllStudies(a)) {
    auto recs = a->Locate(s);
    if (!recs.ok()) continue;
    for (auto& r : recs.value()) {
      bool cold = r.location.tier == Location::Tier::kCold;
      if ((tier == "cold") == cold || tier == "any") pool.push_back(r);
    }
  }
  if (pool.empty()) {
    std::fprintf(stderr, "no %s instances in the catalog\n", tier.c_str());
    return 1;
  }
  std::mt19937 rng(42);
  std::vector<double> ms;
  uint64_t bytes = 0;
  for (int i = 0; i < samples; ++i) {
    const auto& r = pool[rng() % pool.size()];
    auto t0 = Clock::now();
    auto b = a->Read(r);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!b.ok()) {
      std::fprintf(stderr, "read failed: %s\n", b.status().ToString().c_str());
      return 1;
    }
    bytes += b->size();
  }
  std::printf("single-image read (%s, %zu candidates, %d samples, %.0f KB avg): p50 %.2f ms  p99 %.2f ms  max %.2f ms\n",
              tier.c_str(), pool.size(), samples, bytes / 1e3 / samples, Percentile(ms, 0.5), Percentile(ms, 0.99),
              Percentile(ms, 1.0));
  return 0;
}

int Studies(Archive* a, const std::vector<int>& clients_list, int rounds) {
  auto studies = AllStudies(a);
  if (studies.empty()) return 1;
  std::vector<std::vector<InstanceRecord>> recs;
  for (const auto& s : studies) recs.push_back(a->Locate(s).value());
  for (int clients : clients_list) {
    std::atomic<uint64_t> bytes{0}, images{0};
    std::atomic<int> next{0};
    std::atomic<bool> failed{false};
    const int total = static_cast<int>(recs.size()) * rounds;
    auto t0 = Clock::now();
    std::vector<std::thread> th;
    for (int c = 0; c < clients; ++c)
      th.emplace_back([&] {
        for (int i; (i = next++) < total;) {
          // The reader WADO-RS and C-GET stream a study with (reads in flight, in order).
          const auto& study = recs[i % recs.size()];
          PrefetchReader reader(a, study);
          for (size_t k = 0; k < study.size(); ++k) {
            auto b = reader.Next();
            if (!b.ok()) {
              std::fprintf(stderr, "study read failed: %s\n", b.status().ToString().c_str());
              failed = true;
              break;
            }
            bytes += b->size();
            ++images;
          }
        }
      });
    for (auto& t : th) t.join();
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("whole-study reads, %d client(s): %d studies, %.1f MB in %.2f s = %.1f MB/s, %.0f images/s\n", clients,
                total, bytes / 1e6, s, bytes / 1e6 / s, images / s);
    if (failed) return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s latency|study [--samples N] [--tier cold|hot|any] [--clients 1,2,4] [--rounds N] "
                 "[--SETTING VALUE ...]\n", argv[0]);
    return 2;
  }
  std::string mode = argv[1], tier = "cold";
  int samples = 300, rounds = 1;
  std::vector<int> clients{1};
  std::map<std::string, std::string> overrides;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--samples") samples = std::stoi(v);
    else if (k == "--tier") tier = v;
    else if (k == "--rounds") rounds = std::stoi(v);
    else if (k == "--clients") {
      clients.clear();
      for (size_t p = 0; p < v.size();) {
        size_t c = v.find(',', p);
        clients.push_back(std::stoi(v.substr(p, c - p)));
        if (c == std::string::npos) break;
        p = c + 1;
      }
    } else {
      std::string name = k.substr(2);
      for (auto& ch : name) if (ch == '-') ch = '.';
      // Flags use dashes for dots and underscores alike: find the setting that matches.
      for (const auto& d : AllSettings()) {
        if (Config::FlagName(d.name) == k) name = d.name;
      }
      overrides[name] = v;
    }
  }
  auto config = Config::Load("", overrides);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().ToString().c_str());
    return 2;
  }
  auto opts = ArchiveOptionsFromConfig(config.value());
  if (!opts.ok()) return 2;
  opts->node_id = "bench";
  auto archive = Archive::Open(opts.value());
  if (!archive.ok()) {
    std::fprintf(stderr, "%s\n", archive.status().ToString().c_str());
    return 1;
  }
  if (mode == "latency") return Latency(archive->get(), samples, tier);
  if (mode == "study") return Studies(archive->get(), clients, rounds);
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
