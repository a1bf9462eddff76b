#include "net/dimse/ae_binding.h"

#include <algorithm>

namespace strata {

std::string CheckAeBinding(const std::map<std::string, std::vector<std::string>>& bindings, bool tls,
                           const std::vector<std::string>& identities, const std::string& calling) {
  bool bound = false;
  for (const auto& [identity, aets] : bindings) {
    if (std::find(aets.begin(), aets.end(), calling) == aets.end()) continue;
    bound = true;
    if (tls && std::find(identities.begin(), identities.end(), identity) != identities.end()) return "";
  }
  if (!bound) return "";
  if (!tls) return "calling AE '" + calling + "' is bound to a TLS client certificate (plain port refused)";
  if (identities.empty()) return "calling AE '" + calling + "' is bound to a TLS client certificate; none was shown";
  return "calling AE '" + calling + "' is not bound to certificate '" + identities.front() + "'";
}

std::string ParseAeBindings(const std::map<std::string, std::string>& text,
                            std::map<std::string, std::vector<std::string>>* out) {
  out->clear();
  for (const auto& [identity, list] : text) {
    std::vector<std::string> aets;
    size_t start = 0;
    for (;;) {
      const size_t bar = list.find('|', start);
      std::string ae = list.substr(start, bar == std::string::npos ? std::string::npos : bar - start);
      ae.erase(0, ae.find_first_not_of(' '));
      ae.erase(ae.find_last_not_of(' ') + 1);
      if (ae.empty() || ae.size() > 16)
        return "dimse.tls_client_aets: '" + identity + "' needs AE titles of 1 to 16 characters, AE1|AE2";
      aets.push_back(ae);
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
    if (identity.empty()) return "dimse.tls_client_aets: an empty certificate identity";
    (*out)[identity] = std::move(aets);
  }
  return "";
}

}  // namespace strata
