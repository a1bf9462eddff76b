#include "transfer/work_split.h"

#include <algorithm>
#include <cmath>

namespace strata {

std::vector<size_t> AssignNodesRoundRobin(size_t associations, size_t nodes) {
  std::vector<size_t> out(associations, 0);
  if (nodes == 0) return out;
  for (size_t i = 0; i < associations; ++i) out[i] = i % nodes;
  return out;
}

std::vector<RetrieveUnit> SplitRetrieve(const std::vector<SeriesInstances>& series, int parallel) {
  std::vector<RetrieveUnit> units;
  size_t total = 0, non_empty = 0;
  for (const auto& s : series) {
    total += s.sop_uids.size();
    non_empty += s.sop_uids.empty() ? 0 : 1;
  }
  const size_t n = static_cast<size_t>(std::max(1, parallel));
  for (const auto& s : series) {
    if (s.sop_uids.empty()) continue;
    size_t pieces = 1;
    if (non_empty < n) {
      // This series' share of N units, by its share of the instances.
      pieces = static_cast<size_t>(std::llround(double(n) * double(s.sop_uids.size()) / double(total)));
      pieces = std::clamp<size_t>(pieces, 1, s.sop_uids.size());
    }
    if (pieces == 1) {
      units.push_back({s.series_uid, s.sop_uids, true});
      continue;
    }
    const size_t m = s.sop_uids.size();
    for (size_t p = 0; p < pieces; ++p) {
      size_t begin = m * p / pieces, end = m * (p + 1) / pieces;
      units.push_back({s.series_uid, {s.sop_uids.begin() + begin, s.sop_uids.begin() + end}, false});
    }
  }
  std::stable_sort(units.begin(), units.end(),
                   [](const RetrieveUnit& a, const RetrieveUnit& b) { return a.sop_uids.size() > b.sop_uids.size(); });
  return units;
}

}  // namespace strata
