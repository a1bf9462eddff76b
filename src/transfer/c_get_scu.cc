#include "transfer/c_get_scu.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcostrmf.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "model/uid.h"
#include "transfer/store_status.h"

namespace strata {
namespace {

Status Broken(ScuAssociation& assoc, const std::string& what, const OFCondition& c) {
  assoc.MarkBroken();
  return Status::Unavailable("C-GET on " + assoc.node().ToString() + ": " + what + ": " + c.text());
}

// Receives the data set of one C-STORE sub-operation into a file and answers it.
Status ServeStore(ScuAssociation& assoc, T_ASC_PresentationContextID pc, T_DIMSE_C_StoreRQ& req, const GetSink& sink,
                  GetOutcome* out) {
  const std::string sop = TrimUid(req.AffectedSOPInstanceUID), cls = TrimUid(req.AffectedSOPClassUID);
  uint16_t status = STATUS_Success;
  auto path = sink.path_for(cls, sop);
  DcmOutputFileStream* stream = nullptr;
  std::string tmp;
  if (path.ok()) {
    tmp = path.value() + ".part";
    OFCondition c = DIMSE_createFilestream(tmp.c_str(), &req, assoc.raw(), pc, OFTrue, &stream);
    if (c.bad()) {
      stream = nullptr;
      status = STATUS_STORE_Refused_OutOfResources;
    }
  } else {
    status = STATUS_STORE_Refused_OutOfResources;
  }
  if (stream) {
    T_ASC_PresentationContextID data_pc = 0;
    OFCondition c = DIMSE_receiveDataSetInFile(assoc.raw(), DIMSE_NONBLOCKING, assoc.timeout_s(), &data_pc, stream,
                                               nullptr, nullptr);
    const bool stream_ok = stream->good();
    delete stream;
    if (c.bad()) {
      std::remove(tmp.c_str());
      return Broken(assoc, "receiving " + sop, c);
    }
    std::error_code ec;
    if (!stream_ok || (std::filesystem::rename(tmp, path.value(), ec), ec)) {
      std::remove(tmp.c_str());
      status = STATUS_STORE_Refused_OutOfResources;
    } else {
      sink.stored(sop, path.value(), std::filesystem::file_size(path.value(), ec));
    }
  } else {
    DIC_UL bytes = 0, pdvs = 0;
    OFCondition c = DIMSE_ignoreDataSet(assoc.raw(), DIMSE_NONBLOCKING, assoc.timeout_s(), &bytes, &pdvs);
    if (c.bad()) return Broken(assoc, "skipping " + sop, c);
  }
  if (status != STATUS_Success) ++out->refused;
  T_DIMSE_C_StoreRSP rsp;
  std::memset(&rsp, 0, sizeof(rsp));
  rsp.MessageIDBeingRespondedTo = req.MessageID;
  rsp.DimseStatus = status;
  rsp.DataSetType = DIMSE_DATASET_NULL;
  OFStandard::strlcpy(rsp.AffectedSOPClassUID, req.AffectedSOPClassUID, sizeof(rsp.AffectedSOPClassUID));
  OFStandard::strlcpy(rsp.AffectedSOPInstanceUID, req.AffectedSOPInstanceUID, sizeof(rsp.AffectedSOPInstanceUID));
  rsp.opts = O_STORE_AFFECTEDSOPCLASSUID | O_STORE_AFFECTEDSOPINSTANCEUID;
  OFCondition c = DIMSE_sendStoreResponse(assoc.raw(), pc, &req, &rsp, nullptr);
  if (c.bad()) return Broken(assoc, "answering C-STORE of " + sop, c);
  return Status::OK();
}

}  // namespace

Result<GetOutcome> GetStudyRoot(ScuAssociation& assoc, const std::string& level, const DimseKeys& identifier,
                                const GetSink& sink) {
  const uint8_t pc = assoc.FindContext(UID_GETStudyRootQueryRetrieveInformationModel);
  if (pc == 0) return Status::NotFound(assoc.node().ToString() + " did not accept Study Root C-GET");
  DcmDataset ident;
  ident.putAndInsertString(DCM_QueryRetrieveLevel, level.c_str());
  for (const auto& [tag, value] : identifier) {
    OFCondition c = ident.putAndInsertString(DcmTagKey(tag >> 16, tag & 0xFFFF), value.c_str());
    if (c.bad()) return Status::InvalidArgument(std::string("C-GET key: ") + c.text());
  }
  T_DIMSE_Message msg;
  std::memset(&msg, 0, sizeof(msg));
  msg.CommandField = DIMSE_C_GET_RQ;
  T_DIMSE_C_GetRQ& req = msg.msg.CGetRQ;
  req.MessageID = assoc.raw()->nextMsgID++;
  OFStandard::strlcpy(req.AffectedSOPClassUID, UID_GETStudyRootQueryRetrieveInformationModel,
                      sizeof(req.AffectedSOPClassUID));
  req.Priority = DIMSE_PRIORITY_MEDIUM;
  req.DataSetType = DIMSE_DATASET_PRESENT;
  OFCondition c = DIMSE_sendMessageUsingMemoryData(assoc.raw(), pc, &msg, nullptr, &ident, nullptr, nullptr);
  if (c.bad()) return Broken(assoc, "sending the request", c);

  GetOutcome out;
  for (;;) {
    T_DIMSE_Message rsp;
    std::memset(&rsp, 0, sizeof(rsp));
    T_ASC_PresentationContextID rsp_pc = 0;
    DcmDataset* detail = nullptr;
    c = DIMSE_receiveCommand(assoc.raw(), DIMSE_NONBLOCKING, assoc.timeout_s(), &rsp_pc, &rsp, &detail);
    std::unique_ptr<DcmDataset> detail_owner(detail);
    if (c.bad()) return Broken(assoc, "waiting for responses", c);
    if (rsp.CommandField == DIMSE_C_STORE_RQ) {
      STRATA_RETURN_IF_ERROR(ServeStore(assoc, rsp_pc, rsp.msg.CStoreRQ, sink, &out));
      continue;
    }
    if (rsp.CommandField != DIMSE_C_GET_RSP) {
      assoc.MarkBroken();
      return Status::Unavailable("C-GET on " + assoc.node().ToString() + ": unexpected DIMSE command 0x" +
                                 std::to_string(rsp.CommandField));
    }
    T_DIMSE_C_GetRSP& g = rsp.msg.CGetRSP;
    if (g.DataSetType != DIMSE_DATASET_NULL) {
      DcmDataset* ids = nullptr;
      T_ASC_PresentationContextID ds_pc = 0;
      c = DIMSE_receiveDataSetInMemory(assoc.raw(), DIMSE_NONBLOCKING, assoc.timeout_s(), &ds_pc, &ids, nullptr,
                                       nullptr);
      std::unique_ptr<DcmDataset> ids_owner(ids);
      if (c.bad()) return Broken(assoc, "receiving a response identifier", c);
      OFString list;
      if (ids && ids->findAndGetOFStringArray(DCM_FailedSOPInstanceUIDList, list).good()) {
        out.failed_uids.clear();
        std::string l = list.c_str();
        size_t start = 0;
        while (start < l.size()) {
          size_t end = l.find('\\', start);
          if (end == std::string::npos) end = l.size();
          std::string uid = TrimUid(l.substr(start, end - start));
          if (!uid.empty()) out.failed_uids.push_back(uid);
          start = end + 1;
        }
      }
    }
    if (g.DimseStatus == STATUS_GET_Pending_SubOperationsAreContinuing || g.DimseStatus == 0xFF01) continue;
    out.status = g.DimseStatus;
    out.completed = (g.opts & O_GET_NUMBEROFCOMPLETEDSUBOPERATIONS) ? g.NumberOfCompletedSubOperations : -1;
    out.failed = (g.opts & O_GET_NUMBEROFFAILEDSUBOPERATIONS) ? g.NumberOfFailedSubOperations : -1;
    out.warning = (g.opts & O_GET_NUMBEROFWARNINGSUBOPERATIONS) ? g.NumberOfWarningSubOperations : -1;
    OFString comment;
    if (detail && detail->findAndGetOFString(DCM_ErrorComment, comment).good()) out.error_comment = comment.c_str();
    return out;
  }
}

}  // namespace strata
