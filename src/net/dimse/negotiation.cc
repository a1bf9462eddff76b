#include "net/dimse/negotiation.h"

#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <algorithm>
#include <cstring>

#include "dicom/transfer_syntax.h"
#include "net/dimse/ae_binding.h"

namespace strata {
namespace {

// Every transfer syntax we accept for storage: the native ones and every encapsulated one
// DCMTK knows, plus HTJ2K. Files are stored as received, so no codec is needed to accept.
std::vector<std::string> StorageTransferSyntaxes() {
  std::vector<std::string> out = {syntax::kExplicitLE, syntax::kImplicitLE,
                                  syntax::kExplicitBE,
                                  syntax::kDeflatedLE};
  for (int x = 0; x < static_cast<int>(EXS_Unknown) + 64; ++x) {
    DcmXfer xf(static_cast<E_TransferSyntax>(x));
    if (xf.getXfer() == EXS_Unknown) continue;
    const char* id = xf.getXferID();
    if (id && *id && std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
  const char* htj2k[] = {syntax::kHtj2kLossless, syntax::kHtj2kLosslessRpcl, syntax::kHtj2k};
  for (const char* h : htj2k)
    if (std::find(out.begin(), out.end(), h) == out.end()) out.push_back(h);
  return out;
}

const char* const kQrClasses[] = {
    UID_FINDPatientRootQueryRetrieveInformationModel, UID_FINDStudyRootQueryRetrieveInformationModel,
    UID_MOVEPatientRootQueryRetrieveInformationModel, UID_MOVEStudyRootQueryRetrieveInformationModel,
    UID_GETPatientRootQueryRetrieveInformationModel,  UID_GETStudyRootQueryRetrieveInformationModel,
};

bool IsStorageClass(const char* uid) {
  for (int i = 0; i < numberOfDcmAllStorageSOPClassUIDs; ++i)
    if (strcmp(dcmAllStorageSOPClassUIDs[i], uid) == 0) return true;
  // Private or newer storage classes DCMTK does not list: accept 1.2.840.10008.5.1.4.1.1.*.
  return strncmp(uid, "1.2.840.10008.5.1.4.1.1.", 24) == 0;
}

}  // namespace

bool Negotiate(T_ASC_Association* assoc, const DimseOptions& opt, Admission* admission, AssocStats* st,
               bool* admitted, bool* query_only_out) {
  static const std::vector<std::string> storage_syntaxes = StorageTransferSyntaxes();
  char called[DIC_AE_LEN + 1] = {0}, calling[DIC_AE_LEN + 1] = {0};
  ASC_getAPTitles(assoc->params, calling, sizeof(calling), called, sizeof(called), nullptr, 0);
  st->calling = TrimDicom(calling);
  st->called = TrimDicom(called);
  T_ASC_RejectParameters rej;
  if (st->called != opt.aet) {
    rej = {ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED};
    ASC_rejectAssociation(assoc, &rej);
    st->status = "rejected: called AE '" + st->called + "' is not " + opt.aet;
    return false;
  }
  if (!opt.allowed_calling_aets.empty() && std::find(opt.allowed_calling_aets.begin(), opt.allowed_calling_aets.end(),
                                                     st->calling) == opt.allowed_calling_aets.end()) {
    rej = {ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED};
    ASC_rejectAssociation(assoc, &rej);
    st->status = "rejected: calling AE '" + st->calling + "' not allowed";
    return false;
  }
  if (std::string why = CheckAeBinding(opt.tls_client_aets, st->tls, st->tls_identities, st->calling); !why.empty()) {
    rej = {ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED};
    ASC_rejectAssociation(assoc, &rej);
    st->status = "rejected: " + why;
    return false;
  }
  const int n = ASC_countPresentationContexts(assoc->params);
  for (int i = 0; i < n; ++i) {
    T_ASC_PresentationContext pc;
    if (ASC_getPresentationContext(assoc->params, i, &pc).bad()) continue;
    const char* as = pc.abstractSyntax;
    bool storage = IsStorageClass(as);
    bool qr =
        std::any_of(std::begin(kQrClasses), std::end(kQrClasses), [&](const char* c) { return strcmp(c, as) == 0; });
    bool echo = strcmp(as, UID_VerificationSOPClass) == 0;
    bool commitment = strcmp(as, UID_StorageCommitmentPushModelSOPClass) == 0;
    const char* chosen = nullptr;
    for (int t = 0; t < pc.transferSyntaxCount && !chosen; ++t) {
      const char* ts = pc.proposedTransferSyntaxes[t];
      if (storage) {
        if (std::find(storage_syntaxes.begin(), storage_syntaxes.end(), ts) != storage_syntaxes.end()) chosen = ts;
      } else if (qr || echo || commitment) {
        if (strcmp(ts, syntax::kExplicitLE) == 0 ||
            strcmp(ts, syntax::kImplicitLE) == 0 ||
            strcmp(ts, syntax::kExplicitBE) == 0)
          chosen = ts;
      }
    }
    if (!chosen) {
      ASC_refusePresentationContext(
          assoc->params, pc.presentationContextID,
          (storage || qr || echo || commitment) ? ASC_P_TRANSFERSYNTAXESNOTSUPPORTED : ASC_P_ABSTRACTSYNTAXNOTSUPPORTED);
      continue;
    }
    // For C-GET the requestor proposes the SCP role for storage classes: grant what it asked.
    T_ASC_SC_ROLE role = ASC_SC_ROLE_DEFAULT;
    if (storage && (pc.proposedRole == ASC_SC_ROLE_SCP || pc.proposedRole == ASC_SC_ROLE_SCUSCP))
      role = pc.proposedRole;
    ASC_acceptPresentationContext(assoc->params, pc.presentationContextID, chosen, role);
  }
  if (ASC_countAcceptedPresentationContexts(assoc->params) == 0) {
    rej = {ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_NOREASON};
    ASC_rejectAssociation(assoc, &rej);
    st->status = "rejected: no acceptable presentation context";
    return false;
  }
  // Admission once the services are known: an ECHO/FIND-only association may use a kept slot.
  bool query_only = true;
  for (int i = 0; i < n; ++i) {
    T_ASC_PresentationContext pc;
    if (ASC_getPresentationContext(assoc->params, i, &pc).bad() || pc.resultReason != ASC_P_ACCEPTANCE) continue;
    if (strcmp(pc.abstractSyntax, UID_VerificationSOPClass) != 0 &&
        strcmp(pc.abstractSyntax, UID_FINDPatientRootQueryRetrieveInformationModel) != 0 &&
        strcmp(pc.abstractSyntax, UID_FINDStudyRootQueryRetrieveInformationModel) != 0)
      query_only = false;
  }
  if (std::string why = admission->AdmitAssociation(st->peer, st->calling, query_only); !why.empty()) {
    rej = {ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
           ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED};
    ASC_rejectAssociation(assoc, &rej);
    st->status = "rejected: " + why;
    return false;
  }
  *admitted = true;
  *query_only_out = query_only;
  OFCondition c = ASC_acknowledgeAssociation(assoc);
  if (c.bad()) {
    st->status = std::string("acknowledge failed: ") + c.text();
    return false;
  }
  return true;
}

}  // namespace strata
