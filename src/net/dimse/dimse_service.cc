#include "net/dimse/dimse_service.h"

#include <algorithm>
#include <cstring>

#include <dcmtk/dcmdata/dcuid.h>

namespace strata {

std::string TrimDicom(const char* s) {
  std::string v(s ? s : "");
  while (!v.empty() && (v.back() == ' ' || v.back() == '\0')) v.pop_back();
  return v;
}

QueryRoot RootOf(const char* sop_class) {
  if (strcmp(sop_class, UID_FINDPatientRootQueryRetrieveInformationModel) == 0 ||
      strcmp(sop_class, UID_MOVEPatientRootQueryRetrieveInformationModel) == 0 ||
      strcmp(sop_class, UID_GETPatientRootQueryRetrieveInformationModel) == 0)
    return QueryRoot::kPatient;
  return QueryRoot::kStudy;
}

bool UsesTls(const DimseOptions& opt, const std::string& ae) {
  return std::find(opt.tls_destinations.begin(), opt.tls_destinations.end(), ae) != opt.tls_destinations.end();
}

AuditEvent DimseAudit(const AssocStats& st, const char* action, const char* service) {
  AuditEvent e;
  e.action = action;
  e.protocol = "DIMSE";
  e.ae = st.calling;
  e.address = st.peer;
  e.target = service;
  if (!st.tls_identities.empty()) e.user = st.tls_identities.front();  // the verified client certificate
  return e;
}

}  // namespace strata
