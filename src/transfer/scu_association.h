// ScuAssociation: one association we request (DCMTK dcmnet), owned RAII-style: released
// gracefully by Release(), aborted by the destructor if still open. Knows which contexts the
// peer accepted and with which syntax. Not thread-safe: one thread uses one association.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "transfer/context_plan.h"
#include "transfer/node_address.h"
#include "util/status.h"

struct T_ASC_Association;
struct T_ASC_Network;
class DcmTransportLayer;

namespace strata {

struct AssociationRequest {
  NodeAddress node;
  std::string calling_aet = "STRATASCU";
  std::string called_aet = "STRATA";
  std::vector<PresentationContextSpec> contexts;
  unsigned max_pdu = 131072;  // largest PDU we accept
  int timeout_s = 60;         // ACSE and DIMSE timeout
  DcmTransportLayer* tls = nullptr;  // not owned: TLS to the peer (transfer/tls_transport.h); null = plain
};

struct AcceptedContext {
  uint8_t id = 0;
  std::string abstract_syntax;
  std::string transfer_syntax;
};

class ScuAssociation {
 public:
  // Connects and negotiates. Unavailable when the peer cannot be reached or rejected the
  // association transiently; InvalidArgument when it does not know our or its AE title;
  // NotFound when it accepted none of the contexts, or rejected the association permanently
  // for another reason (which is how many SCPs say that none of the contexts suits them).
  static Result<std::unique_ptr<ScuAssociation>> Open(const AssociationRequest& request);
  ~ScuAssociation();
  ScuAssociation(const ScuAssociation&) = delete;
  ScuAssociation& operator=(const ScuAssociation&) = delete;

  // The accepted context for ABSTRACT_SYNTAX with exactly TRANSFER_SYNTAX (any syntax when
  // empty); 0 when there is none.
  uint8_t FindContext(const std::string& abstract_syntax, const std::string& transfer_syntax = "") const;
  // The syntax accepted on context ID ("" if ID was not accepted).
  std::string SyntaxOf(uint8_t id) const;
  const std::vector<AcceptedContext>& accepted() const { return accepted_; }

  // Graceful A-RELEASE; the association is closed afterwards either way.
  Status Release();
  // After a network or protocol error: the association cannot be used any more.
  void MarkBroken() { broken_ = true; }
  bool usable() const { return assoc_ != nullptr && !broken_; }

  T_ASC_Association* raw() { return assoc_; }
  int timeout_s() const { return timeout_s_; }
  const NodeAddress& node() const { return node_; }

 private:
  ScuAssociation() = default;
  void Close(bool graceful);
  T_ASC_Network* net_ = nullptr;
  T_ASC_Association* assoc_ = nullptr;
  std::vector<AcceptedContext> accepted_;
  NodeAddress node_;
  int timeout_s_ = 60;
  bool broken_ = false;
};

}  // namespace strata
