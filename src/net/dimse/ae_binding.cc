#include "net/dimse/ae_binding.h"

#include <algorithm>

namespace strata {

std::string CheckAeBinding(const std::map<std::string, std::vector<std::string>>& bindings, bool tls,
                           const std::vector<std::string>& identities, const std::string& calling) {
  // A certificate that is bound calls only as its own AE titles.
  if (tls) {
    const std::vector<std::string>* own = nullptr;
    for (const auto& id : identities) {
      auto it = bindings.find(id);
      if (it == bindings.end()) continue;
      if (std::find(it->second.begin(), it->second.end(), calling) != it->second.end()) return "";
      if (!own) own = &it->second;
    }
    if (own) {
      std::string list;
      for (const auto& ae : *own) list += (list.empty() ? "" : "|") + ae;
      return "certificate '" + identities.front() + "' may call only as " + list + ", not '" + calling + "'";
    }
  }
  // An AE title that is bound is used only by its certificates.
  bool bound = false;
  for (const auto& [identity, aets] : bindings)
    if (std::find(aets.begin(), aets.end(), calling) != aets.end()) bound = true;
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
