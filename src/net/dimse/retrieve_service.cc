// C-GET and C-MOVE SCP: resolve the identifier to instances, read them ahead (PrefetchReader,
// transcoding to what the peer accepted), and send each as a C-STORE sub-operation — on the
// same association for C-GET, on a new one to the configured destination for C-MOVE. The
// provider loop is ours rather than DIMSE_getProvider's/DIMSE_moveProvider's, so that the
// identifier goes through ReceiveIdentifier's bounds before DCMTK parses it.
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <cstring>
#include <map>
#include <set>

#include "archive/prefetch_reader.h"
#include "codec/part10_io.h"
#include "codec/transcoder.h"
#include "dicom/transfer_syntax.h"
#include "net/dimse/dimse_service.h"
#include "net/dimse/dimse_status.h"
#include "net/dimse/identifier_reader.h"
#include "transfer/raw_store_send.h"
#include "transfer/store_request.h"
#include "util/log.h"

namespace strata {
namespace {

// Transfer syntaxes the peer accepted on ASSOC for SOP class CLS.
std::vector<std::string> AcceptedSyntaxes(T_ASC_Association* assoc, const std::string& cls) {
  std::vector<std::string> out;
  const int n = ASC_countPresentationContexts(assoc->params);
  for (int i = 0; i < n; ++i) {
    T_ASC_PresentationContext pc;
    if (ASC_getPresentationContext(assoc->params, i, &pc).bad()) continue;
    if (pc.resultReason == ASC_P_ACCEPTANCE && cls == pc.abstractSyntax) out.push_back(pc.acceptedTransferSyntax);
  }
  return out;
}

struct SubOpCounts {
  int remaining = 0, completed = 0, failed = 0, warning = 0;
  std::vector<std::string> failed_uids;
};

// Sends one stored instance as a C-STORE sub-operation on ASSOC.
// Converts stored bytes to a syntax the peer accepted on ASSOC for the instance's SOP class:
// unchanged when it accepted the stored syntax, else transcoded (runs on prefetch threads).
// ACCEPTED maps SOP class -> syntaxes (read from the association beforehand, so the worker
// threads never touch the association itself).
using AcceptedMap = std::map<std::string, std::vector<std::string>>;
Result<std::string> PrepareForPeer(const AcceptedMap& accepted, const InstanceRecord& rec, std::string&& bytes) {
  const std::string& stored = StoredSyntax(rec);
  auto it = accepted.find(rec.sop_class_uid);
  auto target = codec::Transcoder::ChooseSyntax(stored, it == accepted.end() ? std::vector<std::string>{} : it->second);
  if (!target.ok())
    return Status::NotFound("peer accepted no presentation context for " + rec.sop_class_uid + " usable with " +
                            SyntaxName(stored));
  if (target.value() == stored) return std::move(bytes);
  static const codec::Transcoder transcoder;
  return transcoder.Transcode(bytes, target.value());
}

// Sends one instance (bytes already in an accepted syntax, verified) as a C-STORE
// sub-operation, its data set as it is stored (transfer/raw_store_send.h: no parse, no
// re-serialization on the association's thread).
Status SendInstance(T_ASC_Association* assoc, const InstanceRecord& rec, const std::string& bytes,
                    const std::string& move_originator_aet, DIC_US move_originator_id, DIC_US* status_out) {
  auto layout = codec::LocateDataset(bytes);
  if (!layout.ok()) return Status::Corruption("stored file " + rec.sop_uid + ": " + layout.status().message());
  T_ASC_PresentationContextID pc =
      ASC_findAcceptedPresentationContextID(assoc, rec.sop_class_uid.c_str(), layout->transfer_syntax.c_str());
  if (pc == 0)
    return Status::Internal("no presentation context for " + rec.sop_class_uid + " / " + layout->transfer_syntax);
  T_DIMSE_C_StoreRQ req =
      MakeStoreRequest(assoc, rec.sop_class_uid, rec.sop_uid, MoveOriginator{move_originator_aet, move_originator_id});
  T_DIMSE_C_StoreRSP rsp;
  memset(&rsp, 0, sizeof(rsp));
  const std::string_view dataset = std::string_view(bytes).substr(layout->dataset_offset);
  if (Status s = SendStoreRaw(assoc, pc, req, dataset, 0, &rsp); !s.ok()) {
    if (s.code() == Status::Code::kInvalidArgument) return Status::Corruption("stored file " + rec.sop_uid + ": " + s.message());
    return Status::IOError("C-STORE sub-operation failed: " + s.message());
  }
  *status_out = rsp.DimseStatus;
  return Status::OK();
}

// Resolves a C-MOVE/C-GET identifier to the instances it names.
Result<std::vector<InstanceRecord>> ResolveRetrieve(Archive* archive, const RetrieveKeys& k) {
  std::vector<InstanceRecord> out;
  auto append = [&](Result<std::vector<InstanceRecord>> r) -> Status {
    if (!r.ok()) return r.status();
    for (auto& x : r.value()) out.push_back(std::move(x));
    return Status::OK();
  };
  switch (k.level) {
    case QueryLevel::kPatient: {
      Query q;
      q.level = QueryLevel::kStudy;
      q.keys.emplace_back(tags::kPatientID, k.patient_id);
      STRATA_ASSIGN_OR_RETURN(auto studies, archive->Find(q));
      for (const auto& s : studies) STRATA_RETURN_IF_ERROR(append(archive->Locate(s.at(tags::kStudyInstanceUID))));
      break;
    }
    case QueryLevel::kStudy:
      for (const auto& s : k.study_uids) STRATA_RETURN_IF_ERROR(append(archive->Locate(s)));
      break;
    case QueryLevel::kSeries:
      for (const auto& s : k.series_uids) STRATA_RETURN_IF_ERROR(append(archive->Locate("", s)));
      break;
    case QueryLevel::kInstance:
      for (const auto& s : k.sop_uids) STRATA_RETURN_IF_ERROR(append(archive->Locate("", "", s)));
      break;
  }
  return out;
}

// C-MOVE-RSP and C-GET-RSP carry the same counters; one struct for both.
struct RetrieveRsp {
  uint16_t status = STATUS_Pending;
  int remaining = 0, completed = 0, failed = 0, warning = 0;
};

struct Retrieval {
  ServiceEnv env;
  AssocStats* st;
  T_ASC_Association* store_assoc = nullptr;  // where sub-operations go
  Status error;
  uint16_t error_status = 0;
  std::vector<InstanceRecord> records;
  std::unique_ptr<PrefetchReader> reader;
  SubOpCounts counts;
  std::string originator_aet;  // C-MOVE only
  DIC_US originator_id = 0;
};

// Resolves the instances. Returns false (ERROR set) if the retrieve cannot start.
bool StartRetrieve(Retrieval* r, DcmDataset* ident, QueryRoot root) {
  auto keys = IdentifierToRetrieveKeys(ident, root);
  if (!keys.ok()) {
    r->error = keys.status();
    r->error_status = kRetrieveIdentifierDoesNotMatch;
    return false;
  }
  auto recs = ResolveRetrieve(r->env.archive, keys.value());
  if (!recs.ok()) {
    r->error = recs.status();
    r->error_status = kRetrieveUnableToProcess;
    return false;
  }
  r->records = std::move(recs).value();
  r->counts.remaining = static_cast<int>(r->records.size());
  return true;
}

// Starts reading ahead once the association the sub-operations go to is known.
void StartReading(Retrieval* r) {
  auto accepted = std::make_shared<AcceptedMap>();
  for (const auto& rec : r->records)
    if (!accepted->count(rec.sop_class_uid))
      (*accepted)[rec.sop_class_uid] = AcceptedSyntaxes(r->store_assoc, rec.sop_class_uid);
  r->reader = std::make_unique<PrefetchReader>(r->env.archive, r->records,
                                               [accepted](const InstanceRecord& rec, std::string&& bytes) {
                                                 return PrepareForPeer(*accepted, rec, std::move(bytes));
                                               });
}

// Sends the next instance, or (none left) sets the final status.
void RetrieveStep(Retrieval* r, RetrieveRsp* rsp) {
  if (r->counts.remaining == 0) {
    rsp->status = STATUS_Success;
    if (r->counts.failed > 0 || r->counts.warning > 0)
      rsp->status = (r->counts.completed == 0 && r->counts.warning == 0) ? kRetrieveNoSubOperationSucceeded : kRetrieveSomeSubOperationsFailed;
  } else {
    const InstanceRecord& rec = r->records[r->records.size() - static_cast<size_t>(r->counts.remaining)];
    auto bytes = r->reader->Next();
    DIC_US sub_status = 0;
    Status s = bytes.ok()
                   ? SendInstance(r->store_assoc, rec, bytes.value(), r->originator_aet, r->originator_id, &sub_status)
                   : bytes.status();
    --r->counts.remaining;
    if (!s.ok()) {
      ++r->counts.failed;
      r->counts.failed_uids.push_back(rec.sop_uid);
      spdlog::warn("event=suboperation_failed sop={} error=\"{}\"", rec.sop_uid, s.ToString());
    } else if (sub_status == STATUS_Success || IsWarningClass(sub_status)) {
      ++(sub_status == STATUS_Success ? r->counts.completed : r->counts.warning);
      ++r->st->instances_out;
      r->st->bytes_out += bytes->size();
    } else {
      ++r->counts.failed;
      r->counts.failed_uids.push_back(rec.sop_uid);
    }
    rsp->status = STATUS_Pending;
  }
  rsp->remaining = r->counts.remaining;
  rsp->completed = r->counts.completed;
  rsp->failed = r->counts.failed;
  rsp->warning = r->counts.warning;
}

// The response's Failed SOP Instance UID List, on the final response only.
std::unique_ptr<DcmDataset> FailedList(const Retrieval& r) {
  if (r.counts.failed_uids.empty()) return nullptr;
  std::string list;
  for (const auto& u : r.counts.failed_uids) list += (list.empty() ? "" : "\\") + u;
  auto ds = std::make_unique<DcmDataset>();
  ds->putAndInsertString(DCM_FailedSOPInstanceUIDList, list.c_str());
  return ds;
}

// The provider loop shared by C-GET and C-MOVE. SEND sends one response (status detail or
// identifier may be null). OPEN is called once the instances are known and returns the
// association the sub-operations go to (or sets the error).
template <typename Send, typename Open>
OFCondition RunRetrieve(Retrieval* r, T_ASC_Association* assoc, T_ASC_PresentationContextID pc, DIC_US msg_id,
                        bool has_dataset, QueryRoot root, Send send, Open open) {
  std::unique_ptr<DcmDataset> ident;
  if (!has_dataset) {
    r->error = Status::InvalidArgument("retrieve request without identifier");
    r->error_status = kRetrieveIdentifierDoesNotMatch;
  } else {
    OFCondition broken = EC_Normal;
    auto id = ReceiveIdentifier(assoc, pc, r->env.opt->idle_timeout_s, r->env.opt->max_identifier_bytes,
                                r->env.opt->max_identifier_items, &broken);
    if (broken.bad()) return broken;
    if (!id.ok()) {
      r->error = id.status();
      r->error_status = kRetrieveIdentifierDoesNotMatch;
    } else if (StartRetrieve(r, id.value().get(), root) && open(r)) {
      StartReading(r);
    }
  }
  RetrieveRsp rsp;
  if (!r->error.ok()) {
    rsp.status = r->error_status;
    DcmDataset detail;
    detail.putAndInsertString(DCM_ErrorComment, r->error.message().substr(0, 64).c_str());
    ++r->st->failures;
    return send(rsp, &detail, nullptr);
  }
  for (;;) {
    OFCondition cancel = DIMSE_checkForCancelRQ(assoc, pc, msg_id);
    if (cancel.good()) {
      rsp.status = STATUS_GET_Cancel_SubOperationsTerminatedDueToCancelIndication;
      rsp.remaining = r->counts.remaining;
      auto failed = FailedList(*r);
      return send(rsp, nullptr, failed.get());
    }
    if (cancel != DIMSE_NODATAAVAILABLE) return cancel;
    RetrieveStep(r, &rsp);
    if (rsp.status != STATUS_Pending) {
      auto failed = FailedList(*r);
      return send(rsp, nullptr, failed.get());
    }
    OFCondition c = send(rsp, nullptr, nullptr);
    if (c.bad()) return c;
  }
}

template <typename Rsp>
void FillCounts(const RetrieveRsp& in, Rsp* out) {
  out->DimseStatus = in.status;
  out->NumberOfRemainingSubOperations = static_cast<DIC_US>(in.remaining);
  out->NumberOfCompletedSubOperations = static_cast<DIC_US>(in.completed);
  out->NumberOfFailedSubOperations = static_cast<DIC_US>(in.failed);
  out->NumberOfWarningSubOperations = static_cast<DIC_US>(in.warning);
}

// Opens the sub-association of a C-MOVE to DEST, proposing each SOP class of RECORDS with
// its stored syntax and the uncompressed ones.
Result<T_ASC_Association*> OpenMoveAssociation(const ServiceEnv& env, const std::string& dest_aet,
                                               const std::vector<InstanceRecord>& records) {
  auto it = env.opt->move_destinations.find(dest_aet);
  if (it == env.opt->move_destinations.end()) return Status::NotFound("unknown move destination '" + dest_aet + "'");
  T_ASC_Parameters* params = nullptr;
  OFCondition c = ASC_createAssociationParameters(&params, ASC_DEFAULTMAXPDU);
  if (c.bad()) return Status::Internal(c.text());
  ASC_setAPTitles(params, env.opt->aet.c_str(), dest_aet.c_str(), nullptr);
  ASC_setPresentationAddresses(params, "localhost", it->second.c_str());
  // Destinations configured for TLS get it (dimse.tls_destinations), verified against dimse.tls_ca.
  if (UsesTls(*env.opt, dest_aet)) ASC_setTransportLayerType(params, OFTrue);
  std::set<std::pair<std::string, std::string>> combos;
  for (const auto& r : records) combos.insert({r.sop_class_uid, StoredSyntax(r)});
  int next_id = 1;
  std::set<std::string> classes_done;
  for (const auto& [cls, ts] : combos) {
    if (next_id > 253) break;
    const char* syntaxes[] = {ts.c_str()};
    if (!IsUncompressedSyntax(ts) || ts == syntax::kDeflatedLE) {
      ASC_addPresentationContext(params, next_id, cls.c_str(), syntaxes, 1);
      next_id += 2;
    }
    if (classes_done.insert(cls).second && next_id <= 253) {
      const char* plain[] = {syntax::kExplicitLE, syntax::kImplicitLE,
                             syntax::kExplicitBE};
      ASC_addPresentationContext(params, next_id, cls.c_str(), plain, 3);
      next_id += 2;
    }
  }
  T_ASC_Association* sub = nullptr;
  c = ASC_requestAssociation(env.net, params, &sub);
  if (c.bad()) {
    if (sub)
      ASC_destroyAssociation(&sub);
    else
      ASC_destroyAssociationParameters(&params);
    return Status::Unavailable("cannot open association to " + dest_aet + " at " + it->second + ": " + c.text());
  }
  if (ASC_countAcceptedPresentationContexts(sub->params) == 0) {
    ASC_abortAssociation(sub);
    ASC_destroyAssociation(&sub);
    return Status::Unavailable(dest_aet + " accepted no presentation context");
  }
  return sub;
}

// One audit record per C-GET / C-MOVE: the instances sent, by study.
void AuditRetrieve(const ServiceEnv& env, const AssocStats& st, const Retrieval& r, const char* action,
                   const char* service, const std::string& dest) {
  if (env.opt->audit == nullptr) return;
  AuditEvent e = DimseAudit(st, action, service);
  e.success = r.error.ok() && r.counts.failed == 0;
  if (!r.error.ok()) e.detail = r.error.message();
  e.destination = dest;
  if (!r.records.empty()) {
    e.study = r.records.front().study_uid;
    for (const auto& rec : r.records)
      if (rec.study_uid != e.study) e.study = "(several)";
  }
  e.count = r.counts.completed + r.counts.warning;
  env.opt->audit->RecordAccess(e);
}

}  // namespace

OFCondition HandleGet(const ServiceEnv& env, T_ASC_Association* assoc, T_ASC_PresentationContextID pc,
                      T_DIMSE_C_GetRQ& req, AssocStats* st) {
  Retrieval r{env, st, assoc};
  auto send = [&](const RetrieveRsp& in, DcmDataset* detail, DcmDataset* ids) {
    T_DIMSE_C_GetRSP rsp;
    memset(&rsp, 0, sizeof(rsp));
    FillCounts(in, &rsp);
    rsp.opts = O_GET_NUMBEROFREMAININGSUBOPERATIONS | O_GET_NUMBEROFCOMPLETEDSUBOPERATIONS |
               O_GET_NUMBEROFFAILEDSUBOPERATIONS | O_GET_NUMBEROFWARNINGSUBOPERATIONS;
    return DIMSE_sendGetResponse(assoc, pc, &req, &rsp, ids, detail);
  };
  OFCondition c = RunRetrieve(&r, assoc, pc, req.MessageID, req.DataSetType != DIMSE_DATASET_NULL,
                              RootOf(req.AffectedSOPClassUID), send, [](Retrieval*) { return true; });
  r.reader.reset();
  AuditRetrieve(env, *st, r, "retrieve", "C-GET", "");
  spdlog::info("event=get calling={} instances={} completed={} failed={} warning={} status=\"{}\"", st->calling,
               r.records.size(), r.counts.completed, r.counts.failed, r.counts.warning,
               r.error.ok() ? "ok" : r.error.ToString());
  return c;
}

OFCondition HandleMove(const ServiceEnv& env, T_ASC_Association* assoc, T_ASC_PresentationContextID pc,
                       T_DIMSE_C_MoveRQ& req, AssocStats* st) {
  Retrieval r{env, st};
  r.originator_aet = st->calling;
  r.originator_id = req.MessageID;
  const std::string dest = TrimDicom(req.MoveDestination);
  auto send = [&](const RetrieveRsp& in, DcmDataset* detail, DcmDataset* ids) {
    T_DIMSE_C_MoveRSP rsp;
    memset(&rsp, 0, sizeof(rsp));
    FillCounts(in, &rsp);
    rsp.opts = O_MOVE_NUMBEROFREMAININGSUBOPERATIONS | O_MOVE_NUMBEROFCOMPLETEDSUBOPERATIONS |
               O_MOVE_NUMBEROFFAILEDSUBOPERATIONS | O_MOVE_NUMBEROFWARNINGSUBOPERATIONS;
    return DIMSE_sendMoveResponse(assoc, pc, &req, &rsp, ids, detail);
  };
  auto open = [&](Retrieval* rr) {
    auto sub = OpenMoveAssociation(env, dest, rr->records);
    if (!sub.ok()) {
      rr->error = sub.status();
      rr->error_status = kMoveDestinationUnknown;  // (or unreachable)
      return false;
    }
    rr->store_assoc = sub.value();
    return true;
  };
  OFCondition c = RunRetrieve(&r, assoc, pc, req.MessageID, req.DataSetType != DIMSE_DATASET_NULL,
                              RootOf(req.AffectedSOPClassUID), send, open);
  r.reader.reset();
  if (r.store_assoc) {
    ASC_releaseAssociation(r.store_assoc);
    ASC_destroyAssociation(&r.store_assoc);
  }
  AuditRetrieve(env, *st, r, "export", "C-MOVE", dest);
  spdlog::info("event=move calling={} dest={} instances={} completed={} failed={} warning={} status=\"{}\"",
               st->calling, dest, r.records.size(), r.counts.completed, r.counts.failed, r.counts.warning,
               r.error.ok() ? "ok" : r.error.ToString());
  return c;
}

}  // namespace strata
