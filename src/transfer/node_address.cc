#include "transfer/node_address.h"
#include "util/strings.h"

#include <charconv>

namespace strata {

Result<NodeAddress> ParseNodeAddress(std::string_view text) {
  auto bad = [&](const char* why) {
    return Status::InvalidArgument("node '" + std::string(text) + "': " + why + " (expected HOST:PORT)");
  };
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("no port");
  NodeAddress n;
  n.host = std::string(text.substr(0, colon));
  if (n.host.empty()) return bad("empty host");
  if (n.host.find_first_of(" \t,") != std::string::npos) return bad("bad host");
  std::string_view port = text.substr(colon + 1);
  if (port.empty()) return bad("empty port");
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n.port);
  if (ec != std::errc() || end != port.data() + port.size()) return bad("port is not a number");
  if (n.port < 1 || n.port > 65535) return bad("port out of range");
  return n;
}

Result<std::vector<NodeAddress>> ParseNodeList(const std::vector<std::string>& texts) {
  std::vector<NodeAddress> out;
  for (const auto& t : texts) {
    for (const std::string& item : SplitComma(t)) {
      if (item.empty()) return Status::InvalidArgument("empty entry in node list '" + t + "'");
      STRATA_ASSIGN_OR_RETURN(NodeAddress n, ParseNodeAddress(item));
      out.push_back(std::move(n));
    }
  }
  if (out.empty()) return Status::InvalidArgument("no node given");
  return out;
}

}  // namespace strata
