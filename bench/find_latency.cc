// strata-bench-find: study-level C-FIND latency, each query timed on its own inside ONE
// association (so process start and association set-up are not in the figures).
//   strata-bench-find --to HOST:PORT [--called-aet AE] --queries 1000 --key PatientID=X [--key ...]
// Prints one line: p50 / p99 / mean / max in ms and the number of matches per query; exits 1
// if a query fails or matches differ from --expect.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>

#include "model/attributes.h"
#include "transfer/c_find_scu.h"
#include "transfer/scu_association.h"

using namespace strata;

int main(int argc, char** argv) {
  CLI::App app{"time study-level C-FIND queries inside one association"};
  std::string to, called = "STRATA", calling = "BENCHSCU";
  std::vector<std::string> keys;
  int queries = 1000, warmup = 20;
  long expect = -1;
  app.add_option("--to", to, "HOST:PORT")->required();
  app.add_option("--called-aet", called, "called AE title");
  app.add_option("--aet", calling, "calling AE title");
  app.add_option("--key", keys, "Keyword=value matching keys (study level)")->required();
  app.add_option("--queries", queries, "timed queries");
  app.add_option("--warmup", warmup, "untimed queries first");
  app.add_option("--expect", expect, "matches every query must return (-1 = any, but > 0)");
  CLI11_PARSE(app, argc, argv);

  auto node = ParseNodeAddress(to);
  if (!node.ok()) {
    std::fprintf(stderr, "%s\n", node.status().ToString().c_str());
    return 2;
  }
  DimseKeys k;
  for (const auto& kv : keys) {
    auto eq = kv.find('=');
    const auto* def = FindAttributeByName(kv.substr(0, eq));
    if (!def) {
      std::fprintf(stderr, "unknown key %s\n", kv.c_str());
      return 2;
    }
    k.emplace_back(def->tag, eq == std::string::npos ? "" : kv.substr(eq + 1));
  }
  // What a viewer's study list asks for.
  for (Tag t : {tags::kStudyInstanceUID, tags::kStudyDate, tags::kPatientName, tags::kNumberOfStudyRelatedInstances})
    if (std::none_of(k.begin(), k.end(), [&](auto& p) { return p.first == t; })) k.emplace_back(t, "");
  AssociationRequest req;
  req.node = node.value();
  req.calling_aet = calling;
  req.called_aet = called;
  req.contexts.push_back({1, UID_FINDStudyRootQueryRetrieveInformationModel,
                          {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax}, false});
  auto assoc = ScuAssociation::Open(req);
  if (!assoc.ok()) {
    std::fprintf(stderr, "%s\n", assoc.status().ToString().c_str());
    return 1;
  }
  std::vector<double> ms;
  size_t matches = 0;
  for (int i = 0; i < warmup + queries; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = FindStudyRoot(**assoc, "STUDY", k);
    double d = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!r.ok()) {
      std::fprintf(stderr, "query %d: %s\n", i, r.status().ToString().c_str());
      return 1;
    }
    if (r->empty() || (expect >= 0 && static_cast<long>(r->size()) != expect)) {
      std::fprintf(stderr, "query %d: %zu matches (expected %ld)\n", i, r->size(), expect);
      return 1;
    }
    matches = r->size();
    if (i >= warmup) ms.push_back(d);
  }
  (void)(*assoc)->Release();  // benchmark teardown
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) { return ms[std::min(ms.size() - 1, static_cast<size_t>(p * (ms.size() - 1) + 0.5))]; };
  double sum = 0;
  for (double v : ms) sum += v;
  std::printf("queries=%zu matches=%zu p50_ms=%.3f p99_ms=%.3f mean_ms=%.3f max_ms=%.3f\n", ms.size(), matches,
              pct(0.5), pct(0.99), sum / ms.size(), ms.back());
  return 0;
}
