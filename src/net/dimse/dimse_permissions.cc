#include "net/dimse/dimse_permissions.h"

#include <algorithm>
#include <cstring>

#include <dcmtk/dcmdata/dcdeftag.h>

namespace strata {
namespace {

const char* NameOf(DimseService s) {
  switch (s) {
    case DimseService::kStore: return "store";
    case DimseService::kFind: return "find";
    case DimseService::kRetrieve: return "retrieve";
  }
  return "?";
}

// The list for CALLING: its own entry, else "*", else nullptr.
const std::vector<std::string>* ListFor(const std::map<std::string, std::vector<std::string>>& m,
                                        const std::string& calling) {
  auto it = m.find(calling);
  if (it == m.end()) it = m.find("*");
  return it == m.end() ? nullptr : &it->second;
}

bool Has(const std::vector<std::string>* list, const std::string& v) {
  return list != nullptr && std::find(list->begin(), list->end(), v) != list->end();
}

}  // namespace

std::string ServiceRefusal(const DimseOptions& opt, const std::string& calling, DimseService service) {
  if (opt.ae_permissions.empty()) return "";
  if (Has(ListFor(opt.ae_permissions, calling), NameOf(service))) return "";
  return std::string("AE ") + calling.substr(0, 16) + " may not " + NameOf(service);
}

std::string MoveDestinationRefusal(const DimseOptions& opt, const std::string& calling, const std::string& destination) {
  if (opt.move_allowed.empty()) return "";
  const auto* list = ListFor(opt.move_allowed, calling);
  if (Has(list, destination) || Has(list, "*")) return "";
  return "AE " + calling.substr(0, 16) + " may not move to " + destination.substr(0, 16);
}

std::string ParseAePermissions(const std::map<std::string, std::string>& text, bool check_services,
                               std::map<std::string, std::vector<std::string>>* out) {
  out->clear();
  for (const auto& [ae, value] : text) {
    if (ae.empty() || ae.size() > 16) return "AE title '" + ae + "' is empty or longer than 16 characters";
    std::vector<std::string> words;
    size_t pos = 0;
    while (pos <= value.size()) {
      size_t end = value.find('|', pos);
      if (end == std::string::npos) end = value.size();
      std::string w = value.substr(pos, end - pos);
      w.erase(0, w.find_first_not_of(' '));
      w.erase(w.find_last_not_of(' ') + 1);
      if (!w.empty()) {
        if (check_services && w != "store" && w != "find" && w != "retrieve")
          return "'" + w + "' for " + ae + " is not store, find or retrieve";
        words.push_back(w);
      }
      pos = end + 1;
    }
    (*out)[ae] = std::move(words);  // an empty list: that AE may use nothing (but C-ECHO)
  }
  return "";
}

OFCondition RefuseCommand(T_ASC_Association* assoc, T_ASC_PresentationContextID pc, T_DIMSE_Message& msg,
                          const std::string& comment, int timeout_s) {
  DIC_UL bytes = 0, pdvs = 0;
  bool has_data = false;
  switch (msg.CommandField) {
    case DIMSE_C_STORE_RQ: has_data = msg.msg.CStoreRQ.DataSetType != DIMSE_DATASET_NULL; break;
    case DIMSE_C_FIND_RQ: has_data = msg.msg.CFindRQ.DataSetType != DIMSE_DATASET_NULL; break;
    case DIMSE_C_GET_RQ: has_data = msg.msg.CGetRQ.DataSetType != DIMSE_DATASET_NULL; break;
    case DIMSE_C_MOVE_RQ: has_data = msg.msg.CMoveRQ.DataSetType != DIMSE_DATASET_NULL; break;
    case DIMSE_N_ACTION_RQ: has_data = msg.msg.NActionRQ.DataSetType != DIMSE_DATASET_NULL; break;
    default: return DIMSE_BADCOMMANDTYPE;
  }
  if (has_data) {
    OFCondition c = DIMSE_ignoreDataSet(assoc, DIMSE_BLOCKING, timeout_s, &bytes, &pdvs);
    if (c.bad()) return c;
  }
  DcmDataset detail;
  detail.putAndInsertString(DCM_ErrorComment, comment.substr(0, 64).c_str());
  switch (msg.CommandField) {
    case DIMSE_C_STORE_RQ: {
      T_DIMSE_C_StoreRSP rsp;
      memset(&rsp, 0, sizeof(rsp));
      rsp.DimseStatus = kStatusNotAuthorized;
      return DIMSE_sendStoreResponse(assoc, pc, &msg.msg.CStoreRQ, &rsp, &detail);
    }
    case DIMSE_C_FIND_RQ: {
      T_DIMSE_C_FindRSP rsp;
      memset(&rsp, 0, sizeof(rsp));
      rsp.DimseStatus = kStatusNotAuthorized;
      return DIMSE_sendFindResponse(assoc, pc, &msg.msg.CFindRQ, &rsp, nullptr, &detail);
    }
    case DIMSE_C_GET_RQ: {
      T_DIMSE_C_GetRSP rsp;
      memset(&rsp, 0, sizeof(rsp));
      rsp.DimseStatus = kStatusNotAuthorized;
      return DIMSE_sendGetResponse(assoc, pc, &msg.msg.CGetRQ, &rsp, nullptr, &detail);
    }
    case DIMSE_C_MOVE_RQ: {
      T_DIMSE_C_MoveRSP rsp;
      memset(&rsp, 0, sizeof(rsp));
      rsp.DimseStatus = kStatusNotAuthorized;
      return DIMSE_sendMoveResponse(assoc, pc, &msg.msg.CMoveRQ, &rsp, nullptr, &detail);
    }
    default: {  // N-ACTION (storage commitment)
      T_DIMSE_Message rsp;
      memset(&rsp, 0, sizeof(rsp));
      rsp.CommandField = DIMSE_N_ACTION_RSP;
      T_DIMSE_N_ActionRSP& a = rsp.msg.NActionRSP;
      a.MessageIDBeingRespondedTo = msg.msg.NActionRQ.MessageID;
      OFStandard::strlcpy(a.AffectedSOPClassUID, msg.msg.NActionRQ.RequestedSOPClassUID, sizeof(a.AffectedSOPClassUID));
      OFStandard::strlcpy(a.AffectedSOPInstanceUID, msg.msg.NActionRQ.RequestedSOPInstanceUID,
                          sizeof(a.AffectedSOPInstanceUID));
      a.ActionTypeID = msg.msg.NActionRQ.ActionTypeID;
      a.DimseStatus = kStatusNotAuthorized;
      a.DataSetType = DIMSE_DATASET_NULL;
      a.opts = O_NACTION_AFFECTEDSOPCLASSUID | O_NACTION_AFFECTEDSOPINSTANCEUID | O_NACTION_ACTIONTYPEID;
      return DIMSE_sendMessageUsingMemoryData(assoc, pc, &rsp, nullptr, nullptr, nullptr, nullptr);
    }
  }
}

}  // namespace strata
