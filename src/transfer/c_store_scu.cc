#include "transfer/c_store_scu.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>

#include <cstring>
#include <memory>

#include "dicom/transfer_syntax.h"
#include "model/uid.h"
#include "transfer/store_request.h"

namespace strata {

StoreAttempt StoreFile(ScuAssociation& assoc, const DicomFileInfo& file) {
  using O = StoreAttempt::Outcome;
  const uint8_t pc = assoc.FindContext(file.sop_class_uid, file.transfer_syntax);
  if (pc == 0)
    return {O::kNoContext, 0,
            assoc.node().ToString() + " did not accept SOP class " + file.sop_class_uid + " in " +
                SyntaxName(file.transfer_syntax)};
  DcmFileFormat ff;
  OFCondition c = ff.loadFile(file.path.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect);
  if (c.bad()) return {O::kFileError, 0, std::string("cannot read the file: ") + c.text()};
  DcmDataset* ds = ff.getDataset();
  OFString sop;
  ds->findAndGetOFString(DCM_SOPInstanceUID, sop);
  DcmXfer xfer(ds->getOriginalXfer());
  if ((!sop.empty() && TrimUid(sop.c_str()) != file.sop_instance_uid) ||
      (xfer.getXfer() != EXS_Unknown && file.transfer_syntax != xfer.getXferID()))
    return {O::kFileError, 0, "the file changed since it was scanned"};

  T_DIMSE_C_StoreRQ req = MakeStoreRequest(assoc.raw(), file.sop_class_uid, file.sop_instance_uid);
  T_DIMSE_C_StoreRSP rsp;
  std::memset(&rsp, 0, sizeof(rsp));
  DcmDataset* detail = nullptr;
  c = DIMSE_storeUser(assoc.raw(), pc, &req, nullptr, ds, nullptr, nullptr, DIMSE_NONBLOCKING, assoc.timeout_s(),
                      &rsp, &detail);
  std::unique_ptr<DcmDataset> detail_owner(detail);
  if (c.bad()) {
    assoc.MarkBroken();
    return {O::kNetworkError, 0, "C-STORE to " + assoc.node().ToString() + " failed: " + c.text()};
  }
  StoreAttempt out{O::kResponse, rsp.DimseStatus, ""};
  OFString comment;
  if (detail && detail->findAndGetOFString(DCM_ErrorComment, comment).good()) out.message = comment.c_str();
  return out;
}

}  // namespace strata
