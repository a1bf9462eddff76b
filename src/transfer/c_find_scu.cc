#include "transfer/c_find_scu.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>

#include <cstring>
#include <memory>

#include "transfer/store_status.h"

namespace strata {
namespace {

struct FindCtx {
  const DimseKeys* keys;
  std::vector<FindMatch>* out;
};

void OnFindResponse(void* data, T_DIMSE_C_FindRQ*, int, T_DIMSE_C_FindRSP*, DcmDataset* ids) {
  auto* ctx = static_cast<FindCtx*>(data);
  if (!ids) return;
  FindMatch m;
  for (const auto& [tag, value] : *ctx->keys) {
    OFString v;
    if (ids->findAndGetOFStringArray(DcmTagKey(tag >> 16, tag & 0xFFFF), v).good() && !v.empty()) {
      std::string s = v.c_str();
      while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
      m[tag] = s;
    }
  }
  ctx->out->push_back(std::move(m));
}

}  // namespace

Result<std::vector<FindMatch>> FindStudyRoot(ScuAssociation& assoc, const std::string& level, const DimseKeys& keys) {
  const uint8_t pc = assoc.FindContext(UID_FINDStudyRootQueryRetrieveInformationModel);
  if (pc == 0) return Status::NotFound(assoc.node().ToString() + " did not accept Study Root C-FIND");
  DcmDataset ident;
  ident.putAndInsertString(DCM_QueryRetrieveLevel, level.c_str());
  for (const auto& [tag, value] : keys) {
    OFCondition c = ident.putAndInsertString(DcmTagKey(tag >> 16, tag & 0xFFFF), value.c_str());
    if (c.bad()) return Status::InvalidArgument(std::string("C-FIND key: ") + c.text());
  }
  T_DIMSE_C_FindRQ req;
  std::memset(&req, 0, sizeof(req));
  req.MessageID = assoc.raw()->nextMsgID++;
  OFStandard::strlcpy(req.AffectedSOPClassUID, UID_FINDStudyRootQueryRetrieveInformationModel,
                      sizeof(req.AffectedSOPClassUID));
  req.DataSetType = DIMSE_DATASET_PRESENT;
  req.Priority = DIMSE_PRIORITY_MEDIUM;
  std::vector<FindMatch> out;
  FindCtx ctx{&keys, &out};
  int count = 0;
  T_DIMSE_C_FindRSP rsp;
  std::memset(&rsp, 0, sizeof(rsp));
  DcmDataset* detail = nullptr;
  OFCondition c = DIMSE_findUser(assoc.raw(), pc, &req, &ident, count, OnFindResponse, &ctx, DIMSE_NONBLOCKING,
                                 assoc.timeout_s(), &rsp, &detail);
  std::unique_ptr<DcmDataset> detail_owner(detail);
  if (c.bad()) {
    assoc.MarkBroken();
    return Status::Unavailable("C-FIND on " + assoc.node().ToString() + " failed: " + c.text());
  }
  if (rsp.DimseStatus != STATUS_Success) {
    OFString comment;
    if (detail) detail->findAndGetOFString(DCM_ErrorComment, comment);
    return Status::Internal("C-FIND " + level + " on " + assoc.node().ToString() + " answered " +
                            DescribeDimseStatus(rsp.DimseStatus) + (comment.empty() ? "" : ": ") + comment.c_str());
  }
  return out;
}

}  // namespace strata
