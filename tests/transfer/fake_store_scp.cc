#include "transfer/fake_store_scp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/scp.h>

#include <chrono>
#include <cstdlib>

namespace strata::testing {

int UnusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

class FakeStoreScp::Impl : public DcmSCP {
 public:
  std::atomic<bool> stop{false};
  mutable std::mutex mu;
  std::map<std::string, std::vector<Answer>> script;
  std::vector<Attempt> attempts;
  int associations = 0;

 protected:
  void notifyAssociationAcknowledge() override {
    std::lock_guard<std::mutex> lk(mu);
    ++associations;
  }
  OFBool stopAfterConnectionTimeout() override { return stop.load(); }
  OFBool stopAfterCurrentAssociation() override { return stop.load(); }

  OFCondition handleIncomingCommand(T_DIMSE_Message* msg, const DcmPresentationContextInfo& info) override {
    if (msg->CommandField != DIMSE_C_STORE_RQ) return DcmSCP::handleIncomingCommand(msg, info);
    T_DIMSE_C_StoreRQ& req = msg->msg.CStoreRQ;
    T_ASC_PresentationContextID pid = info.presentationContextID;
    DcmDataset* ds = nullptr;
    OFCondition c = receiveSTORERequest(req, pid, ds);
    delete ds;
    if (c.bad()) return c;
    Answer answer;
    {
      std::lock_guard<std::mutex> lk(mu);
      const std::string sop = req.AffectedSOPInstanceUID;
      int seen = 0;
      for (const auto& a : attempts) seen += a.sop_uid == sop ? 1 : 0;
      attempts.push_back({sop, req.AffectedSOPClassUID, info.acceptedTransferSyntax.c_str(), associations});
      auto it = script.find(sop);
      if (it != script.end() && !it->second.empty())
        answer = it->second[std::min<size_t>(seen, it->second.size() - 1)];
    }
    if (answer.kind == Answer::kAbort) {
      abortAssociation();
      return DIMSE_ILLEGALASSOCIATION;
    }
    return sendSTOREResponse(pid, req, answer.status);
  }
};

FakeStoreScp::FakeStoreScp(std::vector<std::string> extra_sop_classes) : impl_(new Impl) {
  port_ = UnusedPort();
  impl_->setPort(static_cast<Uint16>(port_));
  impl_->setAETitle("STRATA");
  impl_->setConnectionBlockingMode(DUL_NOBLOCK);
  impl_->setConnectionTimeout(1);
  impl_->setHostLookupEnabled(OFFalse);
  OFList<OFString> syntaxes;
  for (const char* ts : {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax,
                         UID_BigEndianExplicitTransferSyntax, UID_DeflatedExplicitVRLittleEndianTransferSyntax,
                         UID_JPEGLSLosslessTransferSyntax, UID_JPEG2000LosslessOnlyTransferSyntax,
                         UID_JPEGProcess14SV1TransferSyntax, UID_RLELosslessTransferSyntax})
    syntaxes.push_back(ts);
  impl_->addPresentationContext(UID_CTImageStorage, syntaxes);
  impl_->addPresentationContext(UID_VerificationSOPClass, syntaxes);
  for (const auto& c : extra_sop_classes) impl_->addPresentationContext(c.c_str(), syntaxes);
  // Bind before returning, accept on the thread.
  if (impl_->openListenPort().bad()) std::abort();
  thread_ = std::thread([this] { impl_->acceptAssociations(); });
}

FakeStoreScp::~FakeStoreScp() {
  impl_->stop = true;
  thread_.join();
}

void FakeStoreScp::Script(const std::string& sop, std::vector<Answer> answers) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  impl_->script[sop] = std::move(answers);
}

std::vector<FakeStoreScp::Attempt> FakeStoreScp::attempts() const {
  std::lock_guard<std::mutex> lk(impl_->mu);
  return impl_->attempts;
}

std::map<std::string, int> FakeStoreScp::attempts_by_sop() const {
  std::lock_guard<std::mutex> lk(impl_->mu);
  std::map<std::string, int> out;
  for (const auto& a : impl_->attempts) ++out[a.sop_uid];
  return out;
}

int FakeStoreScp::associations() const {
  std::lock_guard<std::mutex> lk(impl_->mu);
  return impl_->associations;
}

}  // namespace strata::testing
