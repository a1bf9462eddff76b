// How parallel work is spread, pure logic (unit-tested alone).
//  - Associations over nodes: association i talks to node i mod K (round-robin).
//  - A study retrieval over N associations: whole series when there are at least N of them,
//    otherwise big series are cut into lists of instances so that about N units exist.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace strata {

// NODE index for each of ASSOCIATIONS associations over NODES nodes (round-robin).
std::vector<size_t> AssignNodesRoundRobin(size_t associations, size_t nodes);

struct SeriesInstances {
  std::string series_uid;
  std::vector<std::string> sop_uids;  // from the C-FIND, in the order the server gave them
};

// One C-GET: a whole series, or a list of instances of one series.
struct RetrieveUnit {
  std::string series_uid;
  std::vector<std::string> sop_uids;  // the instances this unit brings (all of the series
                                      // when whole_series)
  bool whole_series = true;
};

// Units for PARALLEL associations, biggest first (so a dynamic queue balances well).
// Every instance is in exactly one unit; empty series yield no unit.
std::vector<RetrieveUnit> SplitRetrieve(const std::vector<SeriesInstances>& series, int parallel);

}  // namespace strata
