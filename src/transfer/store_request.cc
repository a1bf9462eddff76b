#include "transfer/store_request.h"

#include <cstring>

namespace strata {

T_DIMSE_C_StoreRQ MakeStoreRequest(T_ASC_Association* assoc, const std::string& sop_class,
                                   const std::string& sop_instance, const MoveOriginator& origin) {
  T_DIMSE_C_StoreRQ req;
  std::memset(&req, 0, sizeof(req));
  req.MessageID = assoc->nextMsgID++;
  OFStandard::strlcpy(req.AffectedSOPClassUID, sop_class.c_str(), sizeof(req.AffectedSOPClassUID));
  OFStandard::strlcpy(req.AffectedSOPInstanceUID, sop_instance.c_str(), sizeof(req.AffectedSOPInstanceUID));
  req.DataSetType = DIMSE_DATASET_PRESENT;
  req.Priority = DIMSE_PRIORITY_MEDIUM;
  if (!origin.aet.empty()) {
    req.opts = O_STORE_MOVEORIGINATORAETITLE | O_STORE_MOVEORIGINATORID;
    OFStandard::strlcpy(req.MoveOriginatorApplicationEntityTitle, origin.aet.c_str(),
                        sizeof(req.MoveOriginatorApplicationEntityTitle));
    req.MoveOriginatorID = origin.message_id;
  }
  return req;
}

}  // namespace strata
