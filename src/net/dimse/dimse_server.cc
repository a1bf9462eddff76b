#include "net/dimse/dimse_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/dcmnet/dul.h>

#include <algorithm>
#include <map>
#include <chrono>
#include <set>
#include <thread>

#include "archive/prefetch_reader.h"
#include "codec/dcmtk_codecs.h"
#include "codec/transcoder.h"
#include "dicom/transfer_syntax.h"
#include "net/dimse/dimse_status.h"
#include "net/dimse/find_handler.h"
#include "util/log.h"

namespace strata {
namespace {

// Every transfer syntax we accept for storage: the native ones and every encapsulated one
// DCMTK knows, plus HTJ2K. Files are stored as received, so no codec is needed to accept.
std::vector<std::string> StorageTransferSyntaxes() {
  std::vector<std::string> out = {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax,
                                  UID_BigEndianExplicitTransferSyntax, UID_DeflatedExplicitVRLittleEndianTransferSyntax};
  for (int x = 0; x < static_cast<int>(EXS_Unknown) + 64; ++x) {
    DcmXfer xf(static_cast<E_TransferSyntax>(x));
    if (xf.getXfer() == EXS_Unknown) continue;
    const char* id = xf.getXferID();
    if (id && *id && std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
  const char* htj2k[] = {"1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203"};
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

QueryRoot RootOf(const char* sop_class) {
  if (strcmp(sop_class, UID_FINDPatientRootQueryRetrieveInformationModel) == 0 ||
      strcmp(sop_class, UID_MOVEPatientRootQueryRetrieveInformationModel) == 0 ||
      strcmp(sop_class, UID_GETPatientRootQueryRetrieveInformationModel) == 0)
    return QueryRoot::kPatient;
  return QueryRoot::kStudy;
}

std::string Trim(const char* s) {
  std::string v(s ? s : "");
  while (!v.empty() && (v.back() == ' ' || v.back() == '\0')) v.pop_back();
  return v;
}

// Per-association counters for the log line.
struct AssocStats {
  std::string peer, calling, called;
  int echo = 0, store = 0, find = 0, move = 0, get = 0;
  uint64_t instances_in = 0, instances_out = 0, bytes_in = 0, bytes_out = 0, failures = 0, warnings = 0;
  std::string status = "ok";
};

// Parses verified Part 10 bytes into a DcmFileFormat for sending.
Result<std::unique_ptr<DcmFileFormat>> ParsePart10(const std::string& bytes) {
  DcmInputBufferStream in;
  in.setBuffer(bytes.data(), static_cast<offile_off_t>(bytes.size()));
  in.setEos();
  auto ff = std::make_unique<DcmFileFormat>();
  ff->transferInit();
  OFCondition c = ff->read(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
  ff->transferEnd();
  if (c.bad()) return Status::Corruption(std::string("stored file does not parse: ") + c.text());
  ff->loadAllDataIntoMemory();
  return ff;
}

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

// Sends one instance (bytes already in an accepted syntax) as a C-STORE sub-operation.
Status SendInstance(T_ASC_Association* assoc, const InstanceRecord& rec, const std::string& bytes,
                    const std::string& move_originator_aet, DIC_US move_originator_id, DIC_US* status_out) {
  STRATA_ASSIGN_OR_RETURN(auto ff, ParsePart10(bytes));
  DcmDataset* ds = ff->getDataset();
  OFString syntax;
  ff->getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, syntax);
  T_ASC_PresentationContextID pc = ASC_findAcceptedPresentationContextID(assoc, rec.sop_class_uid.c_str(), syntax.c_str());
  if (pc == 0) return Status::Internal("no presentation context for " + rec.sop_class_uid + " / " + syntax.c_str());
  T_DIMSE_C_StoreRQ req;
  memset(&req, 0, sizeof(req));
  req.MessageID = assoc->nextMsgID++;
  OFStandard::strlcpy(req.AffectedSOPClassUID, rec.sop_class_uid.c_str(), sizeof(req.AffectedSOPClassUID));
  OFStandard::strlcpy(req.AffectedSOPInstanceUID, rec.sop_uid.c_str(), sizeof(req.AffectedSOPInstanceUID));
  req.DataSetType = DIMSE_DATASET_PRESENT;
  req.Priority = DIMSE_PRIORITY_MEDIUM;
  if (!move_originator_aet.empty()) {
    req.opts = O_STORE_MOVEORIGINATORAETITLE | O_STORE_MOVEORIGINATORID;
    OFStandard::strlcpy(req.MoveOriginatorApplicationEntityTitle, move_originator_aet.c_str(),
                        sizeof(req.MoveOriginatorApplicationEntityTitle));
    req.MoveOriginatorID = move_originator_id;
  }
  T_DIMSE_C_StoreRSP rsp;
  memset(&rsp, 0, sizeof(rsp));
  DcmDataset* detail = nullptr;
  OFCondition c = DIMSE_storeUser(assoc, pc, &req, nullptr, ds, nullptr, nullptr, DIMSE_BLOCKING, 0, &rsp, &detail);
  delete detail;
  if (c.bad()) return Status::IOError(std::string("C-STORE sub-operation failed: ") + c.text());
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

}  // namespace

// dcmExternalSocketHandle is process-global: one hand-over at a time.
std::mutex& ExternalSocketMutex() {
  static std::mutex mu;
  return mu;
}

struct DimseServer::Impl {
  Archive* archive;
  DimseOptions opt;
  T_ASC_Network* net = nullptr;
  int listen_fd = -1;
  std::vector<std::string> storage_syntaxes = StorageTransferSyntaxes();

  ~Impl() {
    if (net) ASC_dropNetwork(&net);
    if (listen_fd >= 0) close(listen_fd);
  }

  // --- association set-up ---------------------------------------------------------------
  // Accepts what we serve, refuses the rest. Returns false (and rejects) if the association
  // itself is not acceptable.
  bool Negotiate(T_ASC_Association* assoc, AssocStats* st) {
    char called[DIC_AE_LEN + 1] = {0}, calling[DIC_AE_LEN + 1] = {0};
    ASC_getAPTitles(assoc->params, calling, sizeof(calling), called, sizeof(called), nullptr, 0);
    st->calling = Trim(calling);
    st->called = Trim(called);
    T_ASC_RejectParameters rej;
    if (st->called != opt.aet) {
      rej = {ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED};
      ASC_rejectAssociation(assoc, &rej);
      st->status = "rejected: called AE '" + st->called + "' is not " + opt.aet;
      return false;
    }
    if (!opt.allowed_calling_aets.empty() &&
        std::find(opt.allowed_calling_aets.begin(), opt.allowed_calling_aets.end(), st->calling) ==
            opt.allowed_calling_aets.end()) {
      rej = {ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED};
      ASC_rejectAssociation(assoc, &rej);
      st->status = "rejected: calling AE '" + st->calling + "' not allowed";
      return false;
    }
    const int n = ASC_countPresentationContexts(assoc->params);
    for (int i = 0; i < n; ++i) {
      T_ASC_PresentationContext pc;
      if (ASC_getPresentationContext(assoc->params, i, &pc).bad()) continue;
      const char* as = pc.abstractSyntax;
      bool storage = IsStorageClass(as);
      bool qr = std::any_of(std::begin(kQrClasses), std::end(kQrClasses), [&](const char* c) { return strcmp(c, as) == 0; });
      bool echo = strcmp(as, UID_VerificationSOPClass) == 0;
      const char* chosen = nullptr;
      for (int t = 0; t < pc.transferSyntaxCount && !chosen; ++t) {
        const char* ts = pc.proposedTransferSyntaxes[t];
        if (storage) {
          if (std::find(storage_syntaxes.begin(), storage_syntaxes.end(), ts) != storage_syntaxes.end()) chosen = ts;
        } else if (qr || echo) {
          if (strcmp(ts, UID_LittleEndianExplicitTransferSyntax) == 0 ||
              strcmp(ts, UID_LittleEndianImplicitTransferSyntax) == 0 ||
              strcmp(ts, UID_BigEndianExplicitTransferSyntax) == 0)
            chosen = ts;
        }
      }
      if (!chosen) {
        ASC_refusePresentationContext(assoc->params, pc.presentationContextID,
                                      (storage || qr || echo) ? ASC_P_TRANSFERSYNTAXESNOTSUPPORTED
                                                              : ASC_P_ABSTRACTSYNTAXNOTSUPPORTED);
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
    OFCondition c = ASC_acknowledgeAssociation(assoc);
    if (c.bad()) {
      st->status = std::string("acknowledge failed: ") + c.text();
      return false;
    }
    return true;
  }

  // --- one association ------------------------------------------------------------------
  void HandleAssociation(T_ASC_Association* assoc) {
    auto t0 = std::chrono::steady_clock::now();
    AssocStats st;
    char peer[256] = {0};
    ASC_getPresentationAddresses(assoc->params, peer, sizeof(peer), nullptr, 0);
    st.peer = peer;
    if (Negotiate(assoc, &st)) {
      for (;;) {
        T_DIMSE_Message msg;
        T_ASC_PresentationContextID pc_id = 0;
        DcmDataset* status_detail = nullptr;
        OFCondition c = DIMSE_receiveCommand(assoc, DIMSE_NONBLOCKING, opt.idle_timeout_s, &pc_id, &msg,
                                             &status_detail);
        delete status_detail;
        if (c == DUL_PEERREQUESTEDRELEASE) {
          ASC_acknowledgeRelease(assoc);
          break;
        }
        if (c == DUL_PEERABORTEDASSOCIATION) {
          st.status = "aborted by peer";
          break;
        }
        if (c == DIMSE_NODATAAVAILABLE) {
          st.status = "idle timeout";
          ASC_abortAssociation(assoc);
          break;
        }
        if (c.bad()) {
          st.status = std::string("receive failed: ") + c.text();
          ASC_abortAssociation(assoc);
          break;
        }
        c = Dispatch(assoc, pc_id, msg, &st);
        if (c.bad()) {
          st.status = std::string("service failed: ") + c.text();
          ASC_abortAssociation(assoc);
          break;
        }
      }
    }
    ASC_dropSCPAssociation(assoc);
    ASC_destroyAssociation(&assoc);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    spdlog::info(
        "event=association peer={} calling={} called={} echo={} store={} find={} move={} get={} "
        "instances_in={} bytes_in={} instances_out={} bytes_out={} failures={} warnings={} seconds={:.3f} "
        "mb_per_s={:.1f} status=\"{}\"",
        st.peer, st.calling, st.called, st.echo, st.store, st.find, st.move, st.get, st.instances_in, st.bytes_in,
        st.instances_out, st.bytes_out, st.failures, st.warnings, secs,
        secs > 0 ? (st.bytes_in + st.bytes_out) / 1e6 / secs : 0.0, st.status);
  }

  OFCondition Dispatch(T_ASC_Association* assoc, T_ASC_PresentationContextID pc, T_DIMSE_Message& msg,
                       AssocStats* st) {
    switch (msg.CommandField) {
      case DIMSE_C_ECHO_RQ:
        ++st->echo;
        return DIMSE_sendEchoResponse(assoc, pc, &msg.msg.CEchoRQ, STATUS_Success, nullptr);
      case DIMSE_C_STORE_RQ:
        ++st->store;
        return HandleStore(assoc, pc, msg.msg.CStoreRQ, st);
      case DIMSE_C_FIND_RQ:
        ++st->find;
        return HandleFind(assoc, pc, msg.msg.CFindRQ, st);
      case DIMSE_C_GET_RQ:
        ++st->get;
        return HandleGet(assoc, pc, msg.msg.CGetRQ, st);
      case DIMSE_C_MOVE_RQ:
        ++st->move;
        return HandleMove(assoc, pc, msg.msg.CMoveRQ, st);
      default:
        return DIMSE_BADCOMMANDTYPE;
    }
  }

  // --- C-STORE --------------------------------------------------------------------------
  struct StoreCtx {
    Impl* self;
    std::string temp;
    AssocStats* st;
    DcmDataset* detail = nullptr;
  };

  static void StoreCallback(void* data, T_DIMSE_StoreProgress* progress, T_DIMSE_C_StoreRQ* req, char* /*file*/,
                            DcmDataset** /*ds*/, T_DIMSE_C_StoreRSP* rsp, DcmDataset** status_detail) {
    if (progress->state != DIMSE_StoreEnd) return;
    auto* ctx = static_cast<StoreCtx*>(data);
    const std::string sop = Trim(req->AffectedSOPInstanceUID);
    const std::string cls = Trim(req->AffectedSOPClassUID);
    auto res = ctx->self->archive->StoreFile(ctx->temp, sop, cls);
    ctx->temp.clear();  // the archive owns (moved or deleted) the file now
    ctx->detail = new DcmDataset();
    *status_detail = ctx->detail;
    if (!res.ok()) {
      rsp->DimseStatus = StoreFailureStatus(res.status());
      ctx->detail->putAndInsertString(DCM_ErrorComment, res.status().message().substr(0, 64).c_str());
      ++ctx->st->failures;
      spdlog::warn("event=store_failed calling={} sop={} error=\"{}\"", ctx->st->calling, sop,
                   res.status().ToString());
      return;
    }
    const StoreResult& sr = res.value();
    ++ctx->st->instances_in;
    ctx->st->bytes_in += sr.record.size;
    if (sr.outcome == StoreResult::Outcome::kDuplicateKept) {
      rsp->DimseStatus = 0xB006;  // Warning: elements discarded (the stored instance was kept)
      ctx->detail->putAndInsertString(DCM_ErrorComment, "duplicate SOP Instance UID: stored one kept");
      ++ctx->st->warnings;
      spdlog::warn("event=duplicate_kept calling={} sop={} detail=\"{}\"", ctx->st->calling, sop, sr.warning);
      return;
    }
    rsp->DimseStatus = STATUS_Success;
  }

  OFCondition HandleStore(T_ASC_Association* assoc, T_ASC_PresentationContextID pc, T_DIMSE_C_StoreRQ& req,
                          AssocStats* st) {
    StoreCtx ctx{this, archive->NewIncomingPath(), st};
    // Bit-preserving: DCMTK streams the data set straight into the temp file (with a meta
    // header for the negotiated transfer syntax), so a huge multi-frame never sits in memory.
    OFCondition c = DIMSE_storeProvider(assoc, pc, &req, ctx.temp.c_str(), OFTrue, nullptr, StoreCallback, &ctx,
                                        DIMSE_BLOCKING, 0);
    delete ctx.detail;
    if (!ctx.temp.empty()) unlink(ctx.temp.c_str());  // receive failed before the callback took it
    if (c.bad()) ++st->failures;
    return c;
  }

  // --- C-FIND ---------------------------------------------------------------------------
  struct FindCtx {
    Impl* self;
    QueryRoot root;
    bool started = false;
    Status error;
    QueryLevel level = QueryLevel::kStudy;
    std::vector<AttributeValues> matches;
    size_t next = 0;
    DcmDataset* detail = nullptr;
  };

  static void FindCallback(void* data, OFBool cancelled, T_DIMSE_C_FindRQ* /*req*/, DcmDataset* ident, int /*count*/,
                           T_DIMSE_C_FindRSP* rsp, DcmDataset** rsp_ident, DcmDataset** status_detail) {
    auto* ctx = static_cast<FindCtx*>(data);
    if (!ctx->started) {
      ctx->started = true;
      auto q = IdentifierToQuery(ident, ctx->root);
      if (!q.ok()) {
        ctx->error = q.status();
      } else {
        ctx->level = q->level;
        auto m = ctx->self->archive->Find(q.value());
        if (m.ok()) ctx->matches = std::move(m).value();
        else ctx->error = m.status();
      }
    }
    if (cancelled) {
      rsp->DimseStatus = STATUS_FIND_Cancel_MatchingTerminatedDueToCancelRequest;
      return;
    }
    if (!ctx->error.ok()) {
      rsp->DimseStatus = ctx->error.code() == Status::Code::kInvalidArgument
                             ? STATUS_FIND_Failed_IdentifierDoesNotMatchSOPClass
                             : STATUS_FIND_Failed_UnableToProcess;
      ctx->detail = new DcmDataset();
      ctx->detail->putAndInsertString(DCM_ErrorComment, ctx->error.message().substr(0, 64).c_str());
      *status_detail = ctx->detail;
      return;
    }
    if (ctx->next < ctx->matches.size()) {
      *rsp_ident = MatchToIdentifier(ident, ctx->matches[ctx->next++], ctx->level);
      rsp->DimseStatus = STATUS_Pending;
      return;
    }
    rsp->DimseStatus = STATUS_Success;
  }

  OFCondition HandleFind(T_ASC_Association* assoc, T_ASC_PresentationContextID pc, T_DIMSE_C_FindRQ& req,
                         AssocStats* st) {
    auto t0 = std::chrono::steady_clock::now();
    FindCtx ctx{this, RootOf(req.AffectedSOPClassUID)};
    // DCMTK's find/get/move providers delete the status detail and response identifiers we
    // hand them; only the store provider leaves them to us.
    OFCondition c = DIMSE_findProvider(assoc, pc, &req, FindCallback, &ctx, DIMSE_BLOCKING, opt.idle_timeout_s);
    spdlog::info("event=find calling={} level={} matches={} ms={:.2f} status=\"{}\"", st->calling,
                 QueryLevelName(ctx.level), ctx.matches.size(),
                 std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(),
                 ctx.error.ok() ? "ok" : ctx.error.ToString());
    if (!ctx.error.ok()) ++st->failures;
    return c;
  }

  // --- C-GET / C-MOVE shared --------------------------------------------------------------
  struct RetrieveCtx {
    Impl* self;
    QueryRoot root;
    AssocStats* st;
    T_ASC_Association* store_assoc = nullptr;  // where sub-operations go
    bool started = false;
    Status error;
    uint16_t error_status = 0;
    std::vector<InstanceRecord> records;
    std::unique_ptr<PrefetchReader> reader;
    SubOpCounts counts;
    std::string move_dest;               // C-MOVE only
    std::string originator_aet;          // C-MOVE only
    DIC_US originator_id = 0;
    DcmDataset* detail = nullptr;
    DcmDataset* failed_ident = nullptr;
  };

  // First call: resolve the instances. Returns false if the retrieve cannot start.
  bool StartRetrieve(RetrieveCtx* ctx, DcmDataset* ident) {
    auto keys = IdentifierToRetrieveKeys(ident, ctx->root);
    if (!keys.ok()) {
      ctx->error = keys.status();
      ctx->error_status = 0xA900;  // Identifier does not match SOP Class
      return false;
    }
    auto recs = ResolveRetrieve(archive, keys.value());
    if (!recs.ok()) {
      ctx->error = recs.status();
      ctx->error_status = 0xC000;  // Unable to process
      return false;
    }
    ctx->records = std::move(recs).value();
    ctx->counts.remaining = static_cast<int>(ctx->records.size());
    return true;
  }

  // Starts reading ahead once the association the sub-operations go to is known.
  void StartReading(RetrieveCtx* ctx) {
    auto accepted = std::make_shared<AcceptedMap>();
    for (const auto& r : ctx->records)
      if (!accepted->count(r.sop_class_uid)) (*accepted)[r.sop_class_uid] = AcceptedSyntaxes(ctx->store_assoc, r.sop_class_uid);
    ctx->reader = std::make_unique<PrefetchReader>(
        archive, ctx->records, [accepted](const InstanceRecord& rec, std::string&& bytes) {
          return PrepareForPeer(*accepted, rec, std::move(bytes));
        });
  }

  // Sends the next instance; fills RSP with the pending or final status.
  template <typename Rsp>
  void RetrieveStep(RetrieveCtx* ctx, OFBool cancelled, Rsp* rsp, DcmDataset** status_detail,
                    DcmDataset** rsp_ident) {
    auto finish = [&](uint16_t status) {
      rsp->DimseStatus = status;
      rsp->NumberOfRemainingSubOperations = 0;
      rsp->NumberOfCompletedSubOperations = ctx->counts.completed;
      rsp->NumberOfFailedSubOperations = ctx->counts.failed;
      rsp->NumberOfWarningSubOperations = ctx->counts.warning;
      rsp->opts = O_GET_NUMBEROFREMAININGSUBOPERATIONS | O_GET_NUMBEROFCOMPLETEDSUBOPERATIONS |
                  O_GET_NUMBEROFFAILEDSUBOPERATIONS | O_GET_NUMBEROFWARNINGSUBOPERATIONS;
      if (!ctx->counts.failed_uids.empty()) {
        std::string list;
        for (const auto& u : ctx->counts.failed_uids) list += (list.empty() ? "" : "\\") + u;
        ctx->failed_ident = new DcmDataset();
        ctx->failed_ident->putAndInsertString(DCM_FailedSOPInstanceUIDList, list.c_str());
        *rsp_ident = ctx->failed_ident;
      }
    };
    if (!ctx->error.ok()) {
      rsp->DimseStatus = ctx->error_status;
      ctx->detail = new DcmDataset();
      ctx->detail->putAndInsertString(DCM_ErrorComment, ctx->error.message().substr(0, 64).c_str());
      *status_detail = ctx->detail;
      ++ctx->st->failures;
      return;
    }
    if (cancelled) {
      finish(STATUS_GET_Cancel_SubOperationsTerminatedDueToCancelIndication);
      rsp->NumberOfRemainingSubOperations = ctx->counts.remaining;
      rsp->opts |= O_GET_NUMBEROFREMAININGSUBOPERATIONS;
      return;
    }
    if (ctx->counts.remaining == 0) {
      uint16_t status = STATUS_Success;
      if (ctx->counts.failed > 0 || ctx->counts.warning > 0)
        status = (ctx->counts.completed == 0 && ctx->counts.warning == 0) ? 0xA702 : 0xB000;
      finish(status);
      return;
    }
    size_t idx = ctx->records.size() - static_cast<size_t>(ctx->counts.remaining);
    const InstanceRecord& rec = ctx->records[idx];
    auto bytes = ctx->reader->Next();
    DIC_US sub_status = 0;
    Status s = bytes.ok() ? SendInstance(ctx->store_assoc, rec, bytes.value(), ctx->originator_aet,
                                         ctx->originator_id, &sub_status)
                          : bytes.status();
    --ctx->counts.remaining;
    if (!s.ok()) {
      ++ctx->counts.failed;
      ctx->counts.failed_uids.push_back(rec.sop_uid);
      spdlog::warn("event=suboperation_failed sop={} error=\"{}\"", rec.sop_uid, s.ToString());
    } else if (sub_status == STATUS_Success) {
      ++ctx->counts.completed;
      ++ctx->st->instances_out;
      ctx->st->bytes_out += bytes->size();
    } else if ((sub_status & 0xF000) == 0xB000) {
      ++ctx->counts.warning;
      ++ctx->st->instances_out;
      ctx->st->bytes_out += bytes->size();
    } else {
      ++ctx->counts.failed;
      ctx->counts.failed_uids.push_back(rec.sop_uid);
    }
    rsp->DimseStatus = STATUS_Pending;
    rsp->NumberOfRemainingSubOperations = ctx->counts.remaining;
    rsp->NumberOfCompletedSubOperations = ctx->counts.completed;
    rsp->NumberOfFailedSubOperations = ctx->counts.failed;
    rsp->NumberOfWarningSubOperations = ctx->counts.warning;
    rsp->opts = O_GET_NUMBEROFREMAININGSUBOPERATIONS | O_GET_NUMBEROFCOMPLETEDSUBOPERATIONS |
                O_GET_NUMBEROFFAILEDSUBOPERATIONS | O_GET_NUMBEROFWARNINGSUBOPERATIONS;
  }

  static void GetCallback(void* data, OFBool cancelled, T_DIMSE_C_GetRQ* /*req*/, DcmDataset* ident, int /*count*/,
                          T_DIMSE_C_GetRSP* rsp, DcmDataset** status_detail, DcmDataset** rsp_ident) {
    auto* ctx = static_cast<RetrieveCtx*>(data);
    if (!ctx->started) {
      ctx->started = true;
      if (ctx->self->StartRetrieve(ctx, ident)) ctx->self->StartReading(ctx);
    }
    ctx->self->RetrieveStep(ctx, cancelled, rsp, status_detail, rsp_ident);
  }

  OFCondition HandleGet(T_ASC_Association* assoc, T_ASC_PresentationContextID pc, T_DIMSE_C_GetRQ& req,
                        AssocStats* st) {
    RetrieveCtx ctx{this, RootOf(req.AffectedSOPClassUID), st, assoc};
    OFCondition c = DIMSE_getProvider(assoc, pc, &req, GetCallback, &ctx, DIMSE_BLOCKING, opt.idle_timeout_s);
    spdlog::info("event=get calling={} instances={} completed={} failed={} warning={} status=\"{}\"", st->calling,
                 ctx.records.size(), ctx.counts.completed, ctx.counts.failed, ctx.counts.warning,
                 ctx.error.ok() ? "ok" : ctx.error.ToString());
    return c;
  }

  // Opens the sub-association of a C-MOVE to DEST, proposing each SOP class of RECORDS with
  // its stored syntax and the uncompressed ones.
  Result<T_ASC_Association*> OpenMoveAssociation(const std::string& dest_aet, const std::vector<InstanceRecord>& records) {
    auto it = opt.move_destinations.find(dest_aet);
    if (it == opt.move_destinations.end()) return Status::NotFound("unknown move destination '" + dest_aet + "'");
    T_ASC_Parameters* params = nullptr;
    OFCondition c = ASC_createAssociationParameters(&params, ASC_DEFAULTMAXPDU);
    if (c.bad()) return Status::Internal(c.text());
    ASC_setAPTitles(params, opt.aet.c_str(), dest_aet.c_str(), nullptr);
    ASC_setPresentationAddresses(params, "localhost", it->second.c_str());
    std::set<std::pair<std::string, std::string>> combos;
    for (const auto& r : records) combos.insert({r.sop_class_uid, StoredSyntax(r)});
    int next_id = 1;
    std::set<std::string> classes_done;
    for (const auto& [cls, ts] : combos) {
      if (next_id > 253) break;
      const char* syntaxes[] = {ts.c_str()};
      if (!IsUncompressedSyntax(ts) || ts == UID_DeflatedExplicitVRLittleEndianTransferSyntax) {
        ASC_addPresentationContext(params, next_id, cls.c_str(), syntaxes, 1);
        next_id += 2;
      }
      if (classes_done.insert(cls).second && next_id <= 253) {
        const char* plain[] = {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax,
                               UID_BigEndianExplicitTransferSyntax};
        ASC_addPresentationContext(params, next_id, cls.c_str(), plain, 3);
        next_id += 2;
      }
    }
    T_ASC_Association* sub = nullptr;
    c = ASC_requestAssociation(net, params, &sub);
    if (c.bad()) {
      if (sub) ASC_destroyAssociation(&sub);
      else ASC_destroyAssociationParameters(&params);
      return Status::Unavailable("cannot open association to " + dest_aet + " at " + it->second + ": " + c.text());
    }
    if (ASC_countAcceptedPresentationContexts(sub->params) == 0) {
      ASC_abortAssociation(sub);
      ASC_destroyAssociation(&sub);
      return Status::Unavailable(dest_aet + " accepted no presentation context");
    }
    return sub;
  }

  static void MoveCallback(void* data, OFBool cancelled, T_DIMSE_C_MoveRQ* req, DcmDataset* ident, int /*count*/,
                           T_DIMSE_C_MoveRSP* rsp, DcmDataset** status_detail, DcmDataset** rsp_ident) {
    auto* ctx = static_cast<RetrieveCtx*>(data);
    if (!ctx->started) {
      ctx->started = true;
      if (ctx->self->StartRetrieve(ctx, ident)) {
        auto sub = ctx->self->OpenMoveAssociation(ctx->move_dest, ctx->records);
        if (!sub.ok()) {
          ctx->error = sub.status();
          ctx->error_status = 0xA801;  // Refused: Move Destination unknown (or unreachable)
        } else {
          ctx->store_assoc = sub.value();
          ctx->self->StartReading(ctx);
        }
      }
    }
    // C-MOVE-RSP and C-GET-RSP carry the same fields.
    T_DIMSE_C_GetRSP g;
    memset(&g, 0, sizeof(g));
    ctx->self->RetrieveStep(ctx, cancelled, &g, status_detail, rsp_ident);
    rsp->DimseStatus = g.DimseStatus;
    rsp->NumberOfRemainingSubOperations = g.NumberOfRemainingSubOperations;
    rsp->NumberOfCompletedSubOperations = g.NumberOfCompletedSubOperations;
    rsp->NumberOfFailedSubOperations = g.NumberOfFailedSubOperations;
    rsp->NumberOfWarningSubOperations = g.NumberOfWarningSubOperations;
    rsp->opts = O_MOVE_NUMBEROFREMAININGSUBOPERATIONS | O_MOVE_NUMBEROFCOMPLETEDSUBOPERATIONS |
                O_MOVE_NUMBEROFFAILEDSUBOPERATIONS | O_MOVE_NUMBEROFWARNINGSUBOPERATIONS;
    (void)req;
  }

  OFCondition HandleMove(T_ASC_Association* assoc, T_ASC_PresentationContextID pc, T_DIMSE_C_MoveRQ& req,
                         AssocStats* st) {
    RetrieveCtx ctx{this, RootOf(req.AffectedSOPClassUID), st};
    ctx.move_dest = Trim(req.MoveDestination);
    ctx.originator_aet = st->calling;
    ctx.originator_id = req.MessageID;
    OFCondition c = DIMSE_moveProvider(assoc, pc, &req, MoveCallback, &ctx, DIMSE_BLOCKING, opt.idle_timeout_s);
    ctx.reader.reset();
    if (ctx.store_assoc) {
      ASC_releaseAssociation(ctx.store_assoc);
      ASC_destroyAssociation(&ctx.store_assoc);
    }
    spdlog::info("event=move calling={} dest={} instances={} completed={} failed={} warning={} status=\"{}\"",
                 st->calling, ctx.move_dest, ctx.records.size(), ctx.counts.completed, ctx.counts.failed,
                 ctx.counts.warning, ctx.error.ok() ? "ok" : ctx.error.ToString());
    return c;
  }
};

DimseServer::DimseServer(Archive* archive, DimseOptions options) : impl_(new Impl{archive, std::move(options)}) {}

DimseServer::~DimseServer() {
  stop_ = true;
  // Association threads hold a pointer to us: wait for them (each ends within its idle timeout).
  while (active_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

Result<int> DimseServer::Start() {
  // Nagle off on every DCMTK socket (DCMTK reads this for each connection it opens).
  setenv("TCP_NODELAY", "1", 1);
  codec::RegisterDcmtkCodecs();
  dcmDisableGethostbyaddr.set(OFTrue);
  dcmMaxOutgoingPDUSize.set(impl_->opt.max_pdu);
  dcmSocketSendTimeout.set(impl_->opt.idle_timeout_s);
  dcmSocketReceiveTimeout.set(impl_->opt.idle_timeout_s);
  dcmConnectionTimeout.set(10);

  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::FromErrno(errno, "socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // inherited by accepted sockets
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(impl_->opt.port));
  if (inet_pton(AF_INET, impl_->opt.bind.c_str(), &addr.sin_addr) != 1) {
    close(fd);
    return Status::InvalidArgument("bind address must be an IPv4 address, not '" + impl_->opt.bind + "'");
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    Status s = Status::FromErrno(errno, "bind " + impl_->opt.bind + ":" + std::to_string(impl_->opt.port));
    close(fd);
    return s;
  }
  if (listen(fd, 64) != 0) {
    Status s = Status::FromErrno(errno, "listen");
    close(fd);
    return s;
  }
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  impl_->listen_fd = fd;
  // We accept connections ourselves (our bind address, our socket options) and hand each
  // connected socket to DCMTK through dcmExternalSocketHandle, its inetd-style entry. While
  // it is set, network initialisation does not bind a listening socket of its own.
  std::lock_guard<std::mutex> lk(ExternalSocketMutex());
  dcmExternalSocketHandle.set(fd);
  OFCondition c = ASC_initializeNetwork(NET_ACCEPTORREQUESTOR, port, impl_->opt.idle_timeout_s, &impl_->net);
  dcmExternalSocketHandle.set(-1);
  if (c.bad()) return Status::IOError(std::string("DICOM network init: ") + c.text());
  return port;
}

void DimseServer::Serve() {
  while (!stop_) {
    pollfd pl{impl_->listen_fd, POLLIN, 0};
    if (poll(&pl, 1, 200) <= 0) continue;
    int conn = accept4(impl_->listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) continue;
    int one = 1;
    setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // Nagle off, whatever the env says
    // Wait for the A-ASSOCIATE-RQ outside the lock, so a silent peer cannot stall the others.
    pollfd pc{conn, POLLIN, 0};
    if (poll(&pc, 1, impl_->opt.idle_timeout_s * 1000) <= 0) {
      close(conn);
      spdlog::warn("event=association_failed error=\"no A-ASSOCIATE-RQ within the idle timeout\"");
      continue;
    }
    T_ASC_Association* assoc = nullptr;
    OFCondition c;
    {
      std::lock_guard<std::mutex> lk(ExternalSocketMutex());
      dcmExternalSocketHandle.set(conn);
      c = ASC_receiveAssociation(impl_->net, &assoc, impl_->opt.max_pdu, nullptr, nullptr, OFFalse, DUL_BLOCK,
                                 impl_->opt.idle_timeout_s);
      dcmExternalSocketHandle.set(-1);
    }
    if (c.bad()) {
      if (assoc) {
        ASC_dropSCPAssociation(assoc);
        ASC_destroyAssociation(&assoc);
      }
      spdlog::warn("event=association_failed error=\"{}\"", c.text());
      continue;
    }
    if (active_ >= impl_->opt.max_associations) {
      T_ASC_RejectParameters rej{ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
                                 ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED};
      ASC_rejectAssociation(assoc, &rej);
      ASC_dropSCPAssociation(assoc);
      ASC_destroyAssociation(&assoc);
      spdlog::warn("event=association_rejected reason=\"limit of {} associations reached\"",
                   impl_->opt.max_associations);
      continue;
    }
    ++active_;
    std::thread([this, assoc] {
      impl_->HandleAssociation(assoc);
      --active_;
    }).detach();
  }
}

}  // namespace strata
