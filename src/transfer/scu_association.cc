#include "transfer/scu_association.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/cond.h>
#include <dcmtk/dcmnet/dimse.h>

#include "transfer/dimse_client_init.h"
#include "transfer/quick_ack_connection.h"

namespace strata {

Result<std::unique_ptr<ScuAssociation>> ScuAssociation::Open(const AssociationRequest& req) {
  InitDimseClient(req.timeout_s);
  std::unique_ptr<ScuAssociation> a(new ScuAssociation());
  a->node_ = req.node;
  a->timeout_s_ = req.timeout_s;
  const std::string where = req.node.ToString();
  OFCondition c = ASC_initializeNetwork(NET_REQUESTOR, 0, req.timeout_s, &a->net_);
  if (c.bad()) return Status::Internal(std::string("DICOM network init: ") + c.text());
  // The network owns the layer (deleted by ASC_dropNetwork).
  c = ASC_setTransportLayer(a->net_, new QuickAckTransportLayer(req.tls), 1);
  if (c.bad()) return Status::Internal(std::string("DICOM transport layer: ") + c.text());
  T_ASC_Parameters* params = nullptr;
  c = ASC_createAssociationParameters(&params, req.max_pdu);
  if (c.bad()) return Status::Internal(std::string("association parameters: ") + c.text());
  ASC_setAPTitles(params, req.calling_aet.c_str(), req.called_aet.c_str(), nullptr);
  ASC_setPresentationAddresses(params, "localhost", where.c_str());
  if (req.tls) ASC_setTransportLayerType(params, OFTrue);
  for (const auto& pc : req.contexts) {
    std::vector<const char*> ts;
    for (const auto& t : pc.transfer_syntaxes) ts.push_back(t.c_str());
    c = ASC_addPresentationContext(params, pc.id, pc.abstract_syntax.c_str(), ts.data(), static_cast<int>(ts.size()),
                                   pc.scp_role ? ASC_SC_ROLE_SCP : ASC_SC_ROLE_DEFAULT);
    if (c.bad()) {
      ASC_destroyAssociationParameters(&params);
      return Status::InvalidArgument(std::string("presentation context: ") + c.text());
    }
  }
  c = ASC_requestAssociation(a->net_, params, &a->assoc_);
  if (c.bad()) {
    Status s;
    if (c == DUL_ASSOCIATIONREJECTED) {
      T_ASC_RejectParameters rej;
      ASC_getRejectParameters(params, &rej);
      OFString why;
      ASC_printRejectParameters(why, &rej);
      std::string text = "association rejected by " + where + ": " + std::string(why.c_str());
      for (size_t nl; (nl = text.find('\n')) != std::string::npos;) text.replace(nl, 1, ", ");
      const bool ae_title = rej.reason == ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED ||
                            rej.reason == ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED;
      if (rej.result == ASC_RESULT_REJECTEDTRANSIENT) s = Status::Unavailable(text);
      else if (ae_title) s = Status::InvalidArgument(text);
      else s = Status::NotFound(text);  // what SCPs answer when none of the contexts suits them
    } else {
      s = Status::Unavailable("cannot connect to " + where + ": " + c.text());
    }
    if (a->assoc_) {
      ASC_destroyAssociation(&a->assoc_);
    } else {
      ASC_destroyAssociationParameters(&params);
    }
    a->assoc_ = nullptr;
    return s;
  }
  const int n = ASC_countPresentationContexts(a->assoc_->params);
  for (int i = 0; i < n; ++i) {
    T_ASC_PresentationContext pc;
    if (ASC_getPresentationContext(a->assoc_->params, i, &pc).bad()) continue;
    if (pc.resultReason != ASC_P_ACCEPTANCE) continue;
    a->accepted_.push_back({pc.presentationContextID, pc.abstractSyntax, pc.acceptedTransferSyntax});
  }
  if (a->accepted_.empty()) {
    a->Close(false);
    return Status::NotFound(where + " accepted none of the " + std::to_string(req.contexts.size()) +
                            " proposed presentation contexts");
  }
  return a;
}

ScuAssociation::~ScuAssociation() { Close(false); }

uint8_t ScuAssociation::FindContext(const std::string& abstract_syntax, const std::string& transfer_syntax) const {
  for (const auto& a : accepted_)
    if (a.abstract_syntax == abstract_syntax && (transfer_syntax.empty() || a.transfer_syntax == transfer_syntax))
      return a.id;
  return 0;
}

std::string ScuAssociation::SyntaxOf(uint8_t id) const {
  for (const auto& a : accepted_)
    if (a.id == id) return a.transfer_syntax;
  return "";
}

Status ScuAssociation::Release() {
  if (!assoc_) return Status::OK();
  if (broken_) {
    Close(false);
    return Status::Unavailable("association to " + node_.ToString() + " was broken");
  }
  OFCondition c = ASC_releaseAssociation(assoc_);
  Status s = c.good() ? Status::OK() : Status::Unavailable(std::string("release failed: ") + c.text());
  if (!c.good()) ASC_abortAssociation(assoc_);
  ASC_destroyAssociation(&assoc_);
  assoc_ = nullptr;
  if (net_) ASC_dropNetwork(&net_);
  net_ = nullptr;
  return s;
}

void ScuAssociation::Close(bool graceful) {
  if (assoc_) {
    if (graceful && !broken_) {
      if (ASC_releaseAssociation(assoc_).bad()) ASC_abortAssociation(assoc_);
    } else {
      ASC_abortAssociation(assoc_);
    }
    ASC_destroyAssociation(&assoc_);
    assoc_ = nullptr;
  }
  if (net_) ASC_dropNetwork(&net_);
  net_ = nullptr;
}

}  // namespace strata
