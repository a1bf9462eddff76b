// NodeAddress: one DICOM peer as the user names it on the command line ("host:port"), and
// lists of them ("host:port,host:port"). Parsing is strict: a bad entry is an error, never
// silently dropped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace strata {

struct NodeAddress {
  std::string host;
  int port = 0;
  std::string ToString() const { return host + ":" + std::to_string(port); }
  bool operator==(const NodeAddress&) const = default;
};

// "host:port" with a non-empty host and a port in 1..65535; InvalidArgument otherwise.
Result<NodeAddress> ParseNodeAddress(std::string_view text);
// Comma-separated "host:port" entries (at least one). Each element of TEXTS may itself hold
// several entries, so repeated flags and comma lists both work.
Result<std::vector<NodeAddress>> ParseNodeList(const std::vector<std::string>& texts);

}  // namespace strata
