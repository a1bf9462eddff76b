// C-FIND SCP. The provider loop is ours rather than DIMSE_findProvider's, so that the
// identifier goes through ReceiveIdentifier's bounds before DCMTK parses it.
#include <dcmtk/dcmdata/dcdeftag.h>

#include <chrono>

#include "net/dimse/dimse_service.h"
#include "net/dimse/identifier_reader.h"
#include "util/log.h"

namespace strata {

OFCondition HandleFind(const ServiceEnv& env, T_ASC_Association* assoc, T_ASC_PresentationContextID pc,
                       T_DIMSE_C_FindRQ& req, AssocStats* st) {
  const auto t0 = std::chrono::steady_clock::now();
  T_DIMSE_C_FindRSP rsp;
  memset(&rsp, 0, sizeof(rsp));
  Status error;
  QueryLevel level = QueryLevel::kStudy;
  std::vector<AttributeValues> matches;
  std::unique_ptr<DcmDataset> ident;
  if (req.DataSetType == DIMSE_DATASET_NULL) {
    error = Status::InvalidArgument("C-FIND-RQ without identifier");
  } else {
    OFCondition broken = EC_Normal;
    auto id = ReceiveIdentifier(assoc, pc, env.opt->idle_timeout_s, env.opt->max_identifier_bytes,
                                env.opt->max_identifier_items, &broken);
    if (broken.bad()) return broken;
    if (!id.ok()) {
      error = id.status();
    } else {
      ident = std::move(id).value();
      auto q = IdentifierToQuery(ident.get(), RootOf(req.AffectedSOPClassUID));
      if (!q.ok()) {
        error = q.status();
      } else {
        level = q->level;
        auto m = env.archive->Find(q.value());
        if (m.ok())
          matches = std::move(m).value();
        else
          error = m.status();
      }
    }
  }
  OFCondition c = EC_Normal;
  if (!error.ok()) {
    rsp.DimseStatus = error.code() == Status::Code::kInvalidArgument ? STATUS_FIND_Failed_IdentifierDoesNotMatchSOPClass
                                                                     : STATUS_FIND_Failed_UnableToProcess;
    DcmDataset detail;
    detail.putAndInsertString(DCM_ErrorComment, error.message().substr(0, 64).c_str());
    c = DIMSE_sendFindResponse(assoc, pc, &req, &rsp, nullptr, &detail);
    ++st->failures;
  } else {
    size_t next = 0;
    for (;;) {
      // A C-CANCEL-RQ may arrive between two pending responses.
      OFCondition cancel = DIMSE_checkForCancelRQ(assoc, pc, req.MessageID);
      if (cancel.good()) {
        rsp.DimseStatus = STATUS_FIND_Cancel_MatchingTerminatedDueToCancelRequest;
        c = DIMSE_sendFindResponse(assoc, pc, &req, &rsp, nullptr, nullptr);
        break;
      }
      if (cancel != DIMSE_NODATAAVAILABLE) {
        c = cancel;
        break;
      }
      if (next >= matches.size()) {
        rsp.DimseStatus = STATUS_Success;
        c = DIMSE_sendFindResponse(assoc, pc, &req, &rsp, nullptr, nullptr);
        break;
      }
      std::unique_ptr<DcmDataset> out(MatchToIdentifier(ident.get(), matches[next++], level));
      rsp.DimseStatus = STATUS_Pending;
      c = DIMSE_sendFindResponse(assoc, pc, &req, &rsp, out.get(), nullptr);
      if (c.bad()) break;
    }
  }
  if (env.opt->audit != nullptr) {
    AuditEvent e = DimseAudit(*st, "query", "C-FIND");
    e.success = error.ok();
    e.detail = error.ok() ? std::string(QueryLevelName(level)) : error.message();
    e.count = matches.size();
    OFString study;
    if (ident && ident->findAndGetOFString(DCM_StudyInstanceUID, study).good()) e.study = study.c_str();
    env.opt->audit->RecordAccess(e);
  }
  spdlog::info("event=find calling={} level={} matches={} ms={:.2f} status=\"{}\"", st->calling, QueryLevelName(level),
               matches.size(), std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(),
               error.ok() ? "ok" : error.ToString());
  return c;
}

}  // namespace strata
