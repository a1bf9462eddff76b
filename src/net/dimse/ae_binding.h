// AeBinding: which calling AE titles a peer may use, by the certificate it showed on the TLS
// port (setting dimse.tls_client_aets: identity -> AE titles). AE titles are spoofable; a
// certificate verified against our CA is not. An AE title bound to some identity may only be
// used by a peer whose certificate names that identity (CN or subjectAltName); it is refused
// on the plain port and to any other certificate; and a certificate whose identity is bound
// may call only as its own AE titles. AE titles bound to no identity stay open to unbound
// peers (dimse.allowed_aets still applies). Pure functions, thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace strata {

// "" when CALLING may be used by this peer, else the reason it may not.
std::string CheckAeBinding(const std::map<std::string, std::vector<std::string>>& bindings, bool tls,
                           const std::vector<std::string>& identities, const std::string& calling);

// Parses "IDENTITY=AE1|AE2" map values (from the config's map setting) into bindings;
// an empty AE list or an AE title longer than 16 characters is an error ("" = ok, else why).
std::string ParseAeBindings(const std::map<std::string, std::string>& text,
                            std::map<std::string, std::vector<std::string>>* out);

}  // namespace strata
