#include "net/dimse/storage_commitment_service.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include <chrono>
#include <memory>

#include "dicom/transfer_syntax.h"
#include "net/dimse/dimse_status.h"
#include "net/dimse/identifier_reader.h"
#include "util/log.h"

namespace strata {
namespace {

std::string Get(DcmItem* item, const DcmTagKey& tag) {
  OFString v;
  if (item->findAndGetOFString(tag, v).bad()) return "";
  return TrimDicom(v.c_str());
}

// The Event Information of the report (PS3.4 J.3.3.1).
std::unique_ptr<DcmDataset> EventInformation(const CommitmentReport& r) {
  auto ds = std::make_unique<DcmDataset>();
  ds->putAndInsertString(DCM_TransactionUID, r.transaction_uid.c_str());
  if (!r.committed.empty()) {
    for (const auto& [cls, uid] : r.committed) {
      DcmItem* item = nullptr;
      ds->findOrCreateSequenceItem(DCM_ReferencedSOPSequence, item, -2);
      if (!item) continue;
      item->putAndInsertString(DCM_ReferencedSOPClassUID, cls.c_str());
      item->putAndInsertString(DCM_ReferencedSOPInstanceUID, uid.c_str());
    }
  }
  for (const auto& f : r.failed) {
    DcmItem* item = nullptr;
    ds->findOrCreateSequenceItem(DCM_FailedSOPSequence, item, -2);
    if (!item) continue;
    item->putAndInsertString(DCM_ReferencedSOPClassUID, f.sop_class.c_str());
    item->putAndInsertString(DCM_ReferencedSOPInstanceUID, f.sop_uid.c_str());
    item->putAndInsertUint16(DCM_FailureReason, f.reason);
  }
  return ds;
}

// Sends the N-EVENT-REPORT on PC of ASSOC and waits for its response.
Status SendReport(T_ASC_Association* assoc, T_ASC_PresentationContextID pc, const CommitmentReport& r,
                  int timeout_s) {
  auto info = EventInformation(r);
  T_DIMSE_Message msg;
  memset(&msg, 0, sizeof(msg));
  msg.CommandField = DIMSE_N_EVENT_REPORT_RQ;
  T_DIMSE_N_EventReportRQ& rq = msg.msg.NEventReportRQ;
  rq.MessageID = assoc->nextMsgID++;
  OFStandard::strlcpy(rq.AffectedSOPClassUID, UID_StorageCommitmentPushModelSOPClass, sizeof(rq.AffectedSOPClassUID));
  OFStandard::strlcpy(rq.AffectedSOPInstanceUID, UID_StorageCommitmentPushModelSOPInstance,
                      sizeof(rq.AffectedSOPInstanceUID));
  rq.DataSetType = DIMSE_DATASET_PRESENT;
  rq.EventTypeID = r.failed.empty() ? 1 : 2;
  OFCondition c = DIMSE_sendMessageUsingMemoryData(assoc, pc, &msg, nullptr, info.get(), nullptr, nullptr);
  if (c.bad()) return Status::IOError(std::string("sending N-EVENT-REPORT: ") + c.text());
  T_DIMSE_Message rsp;
  T_ASC_PresentationContextID rsp_pc = 0;
  DcmDataset* detail = nullptr;
  c = DIMSE_receiveCommand(assoc, DIMSE_BLOCKING, timeout_s, &rsp_pc, &rsp, &detail);
  delete detail;
  if (c.bad()) return Status::UnknownOutcome(std::string("no N-EVENT-REPORT response: ") + c.text());
  if (rsp.CommandField != DIMSE_N_EVENT_REPORT_RSP)
    return Status::IOError("peer answered the N-EVENT-REPORT with another command");
  if (rsp.msg.NEventReportRSP.DataSetType != DIMSE_DATASET_NULL) {
    DcmDataset* extra = nullptr;
    (void)DIMSE_receiveDataSetInMemory(assoc, DIMSE_BLOCKING, timeout_s, &rsp_pc, &extra, nullptr, nullptr);
    delete extra;  // an Event Reply is not defined for this class: drained, not used
  }
  if (rsp.msg.NEventReportRSP.DimseStatus != STATUS_Success) {
    char hex[8];
    snprintf(hex, sizeof(hex), "%04x", rsp.msg.NEventReportRSP.DimseStatus);
    return Status::IOError(std::string("N-EVENT-REPORT answered with status 0x") + hex);
  }
  return Status::OK();
}

void LogReport(const CommitmentReport& r, const std::string& delivery, const Status& s) {
  spdlog::info(
      "event=storage_commitment transaction={} requester={} committed={} failed={} check_seconds={:.3f} delivery={} "
      "status=\"{}\"",
      r.transaction_uid, r.requester_aet, r.committed.size(), r.failed.size(), r.check_seconds, delivery,
               s.ok() ? "ok" : s.ToString());
}

Status SendActionResponse(T_ASC_Association* assoc, T_ASC_PresentationContextID pc, const T_DIMSE_N_ActionRQ& req,
                          uint16_t status) {
  T_DIMSE_Message msg;
  memset(&msg, 0, sizeof(msg));
  msg.CommandField = DIMSE_N_ACTION_RSP;
  T_DIMSE_N_ActionRSP& rsp = msg.msg.NActionRSP;
  rsp.MessageIDBeingRespondedTo = req.MessageID;
  OFStandard::strlcpy(rsp.AffectedSOPClassUID, req.RequestedSOPClassUID, sizeof(rsp.AffectedSOPClassUID));
  OFStandard::strlcpy(rsp.AffectedSOPInstanceUID, req.RequestedSOPInstanceUID, sizeof(rsp.AffectedSOPInstanceUID));
  rsp.ActionTypeID = req.ActionTypeID;
  rsp.DataSetType = DIMSE_DATASET_NULL;
  rsp.DimseStatus = status;
  rsp.opts = O_NACTION_AFFECTEDSOPCLASSUID | O_NACTION_AFFECTEDSOPINSTANCEUID | O_NACTION_ACTIONTYPEID;
  OFCondition c = DIMSE_sendMessageUsingMemoryData(assoc, pc, &msg, nullptr, nullptr, nullptr, nullptr);
  if (c.bad()) return Status::IOError(std::string("sending N-ACTION response: ") + c.text());
  return Status::OK();
}

}  // namespace

CommitmentReport CheckCommitment(Archive* archive, const std::string& requester_aet,
                                 const std::string& transaction_uid,
                                 const std::vector<std::pair<std::string, std::string>>& refs) {
  CommitmentReport r;
  r.requester_aet = requester_aet;
  r.transaction_uid = transaction_uid;
  for (const auto& [cls, uid] : refs) {
    Result<InstanceRecord> rec = archive->GetInstance(uid);
    if (!rec.ok()) {
      r.failed.push_back({cls, uid, rec.status().IsNotFound() ? kCommitNoSuchObjectInstance : kProcessingFailure});
      continue;
    }
    if (rec.value().sop_class_uid != cls) {
      r.failed.push_back({cls, uid, kCommitClassInstanceConflict});
      continue;
    }
    // The verified read: hot or packed, the bytes must match the catalog's checksum now.
    Result<std::string> bytes = archive->Read(rec.value());
    if (!bytes.ok()) {
      spdlog::warn("event=storage_commitment_failure transaction={} sop={} error=\"{}\"", transaction_uid, uid,
                   bytes.status().ToString());
      r.failed.push_back({cls, uid, kProcessingFailure});
      continue;
    }
    r.committed.emplace_back(cls, uid);
  }
  return r;
}

OFCondition HandleStorageCommitment(const ServiceEnv& env, T_ASC_Association* assoc, T_ASC_PresentationContextID pc,
                                    T_DIMSE_N_ActionRQ& req, AssocStats* st, std::vector<CommitmentReport>* deferred) {
  std::unique_ptr<DcmDataset> ds;
  uint16_t status = STATUS_Success;
  if (req.DataSetType != DIMSE_DATASET_NULL) {
    // Bounded before DCMTK parses it: no request may exhaust memory or the thread's stack.
    OFCondition broken = EC_Normal;
    auto got = ReceiveIdentifier(assoc, pc, env.opt->idle_timeout_s, kMaxCommitmentBytes, kMaxCommitmentItems,
                                 &broken);
    if (broken.bad()) return broken;
    if (got.ok()) {
      ds = std::move(got).value();
    } else {
      spdlog::warn("event=storage_commitment requester={} refused_data_set=\"{}\"", st->calling,
                   got.status().ToString());
      status = STATUS_N_ProcessingFailure;
    }
  }
  std::string transaction;
  std::vector<std::pair<std::string, std::string>> refs;
  if (status != STATUS_Success) {
    // refused data set: status set above
  } else if (strcmp(req.RequestedSOPClassUID, UID_StorageCommitmentPushModelSOPClass) != 0) {
    status = STATUS_N_NoSuchSOPClass;
  } else if (strcmp(req.RequestedSOPInstanceUID, UID_StorageCommitmentPushModelSOPInstance) != 0) {
    status = STATUS_N_NoSuchObjectInstance;
  } else if (req.ActionTypeID != 1) {
    status = STATUS_N_NoSuchAction;
  } else if (!ds || (transaction = Get(ds.get(), DCM_TransactionUID)).empty()) {
    status = STATUS_N_MissingAttribute;
  } else {
    DcmSequenceOfItems* seq = nullptr;
    if (ds->findAndGetSequence(DCM_ReferencedSOPSequence, seq).bad() || !seq || seq->card() == 0) {
      status = STATUS_N_MissingAttribute;
    } else {
      for (unsigned long i = 0; i < seq->card(); ++i) {
        DcmItem* item = seq->getItem(i);
        std::string cls = Get(item, DCM_ReferencedSOPClassUID), uid = Get(item, DCM_ReferencedSOPInstanceUID);
        if (cls.empty() || uid.empty()) {
          status = STATUS_N_MissingAttribute;
          break;
        }
        refs.emplace_back(std::move(cls), std::move(uid));
      }
    }
  }
  ++st->commit;
  if (status != STATUS_Success) {
    ++st->failures;
    spdlog::warn("event=storage_commitment transaction={} requester={} refused=0x{:04x}", transaction, st->calling,
                 status);
    Status s = SendActionResponse(assoc, pc, req, status);
    return s.ok() ? EC_Normal : DIMSE_SENDFAILED;
  }
  // Answered before checking: reading thousands of instances (packed ones from the cold store)
  // may outlast the requester's response timeout; the answer only says the request is taken.
  if (Status s = SendActionResponse(assoc, pc, req, STATUS_Success); !s.ok()) return DIMSE_SENDFAILED;
  const auto t0 = std::chrono::steady_clock::now();
  CommitmentReport report = CheckCommitment(env.archive, st->calling, transaction, refs);
  report.check_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // A requester that keeps the association open sends nothing while it waits for the report.
  if (ASC_dataWaiting(assoc, kSameAssociationWaitS)) {
    deferred->push_back(std::move(report));
    return EC_Normal;
  }
  Status s = SendReport(assoc, pc, report, env.opt->idle_timeout_s);
  LogReport(report, "same_association", s);
  if (!s.ok()) {
    // Maybe lost with the association: a report may be sent again, so try a new association.
    deferred->push_back(std::move(report));
    return DIMSE_SENDFAILED;
  }
  return EC_Normal;
}

Status DeliverCommitmentReport(const ServiceEnv& env, const CommitmentReport& report) {
  Status s = [&]() -> Status {
    auto it = env.opt->move_destinations.find(report.requester_aet);
    if (it == env.opt->move_destinations.end())
      return Status::NotFound("no address configured for requester '" + report.requester_aet + "'");
    T_ASC_Parameters* params = nullptr;
    OFCondition c = ASC_createAssociationParameters(&params, ASC_DEFAULTMAXPDU);
    if (c.bad()) return Status::IOError(std::string("association parameters: ") + c.text());
    ASC_setAPTitles(params, env.opt->aet.c_str(), report.requester_aet.c_str(), nullptr);
    ASC_setPresentationAddresses(params, "localhost", it->second.c_str());
    // Destinations configured for TLS get it (dimse.tls_destinations), verified against dimse.tls_ca.
    if (UsesTls(*env.opt, report.requester_aet)) ASC_setTransportLayerType(params, OFTrue);
    const char* syntaxes[] = {syntax::kExplicitLE, syntax::kImplicitLE};
    // Strata is the SCP of the class but the association requester: propose the SCP role
    // (PS3.4 J.3.3, PS3.7 D.3.3.4).
    ASC_addPresentationContext(params, 1, UID_StorageCommitmentPushModelSOPClass, syntaxes, 2, ASC_SC_ROLE_SCP);
    T_ASC_Association* a = nullptr;
    c = ASC_requestAssociation(env.net, params, &a);
    if (c.bad()) {
      if (a) ASC_destroyAssociation(&a);
      else ASC_destroyAssociationParameters(&params);
      return Status::Unavailable(std::string("association to ") + report.requester_aet + " at " + it->second +
                                 " failed: " + c.text());
    }
    Status out;
    T_ASC_PresentationContext pc;
    if (ASC_findAcceptedPresentationContext(a->params, 1, &pc).bad() || pc.resultReason != ASC_P_ACCEPTANCE) {
      out = Status::Unavailable(report.requester_aet + " refused the Storage Commitment presentation context");
    } else if (pc.acceptedRole != ASC_SC_ROLE_SCP && pc.acceptedRole != ASC_SC_ROLE_SCUSCP) {
      out = Status::Unavailable(report.requester_aet + " did not grant Strata the SCP role for Storage Commitment");
    } else {
      out = SendReport(a, 1, report, env.opt->idle_timeout_s);
    }
    if (out.ok()) ASC_releaseAssociation(a);
    else ASC_abortAssociation(a);
    ASC_destroyAssociation(&a);
    return out;
  }();
  LogReport(report, "new_association", s);
  return s;
}

}  // namespace strata
