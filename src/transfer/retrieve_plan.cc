#include "transfer/retrieve_plan.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <algorithm>
#include <set>

#include "dicom/transfer_syntax.h"
#include "model/uid.h"
#include "transfer/c_find_scu.h"
#include "transfer/scu_association.h"

namespace strata {

Result<RetrievePlan> PlanRetrieve(const RetrieveOptions& o) {
  STRATA_RETURN_IF_ERROR(ValidateUid(o.study_uid, "study UID"));
  if (!o.series_uid.empty()) STRATA_RETURN_IF_ERROR(ValidateUid(o.series_uid, "series UID"));
  AssociationRequest req;
  req.node = o.node;
  req.calling_aet = o.calling_aet;
  req.tls = o.tls;
  req.called_aet = o.called_aet;
  req.max_pdu = o.max_pdu;
  req.timeout_s = o.timeout_s;
  req.contexts.push_back({1, UID_FINDStudyRootQueryRetrieveInformationModel,
                          {syntax::kExplicitLE, syntax::kImplicitLE}, false});
  STRATA_ASSIGN_OR_RETURN(auto assoc, ScuAssociation::Open(req));

  STRATA_ASSIGN_OR_RETURN(auto series,
                          FindStudyRoot(*assoc, "SERIES",
                                        {{tags::kStudyInstanceUID, o.study_uid},
                                         {tags::kSeriesInstanceUID, o.series_uid},
                                         {tags::kSeriesNumber, ""},
                                         {tags::kModality, ""},
                                         {tags::kNumberOfSeriesRelatedInstances, ""}}));
  RetrievePlan plan;
  std::set<std::string> seen_series, classes;
  for (const auto& s : series) {
    auto it = s.find(tags::kSeriesInstanceUID);
    if (it == s.end() || !IsValidUid(it->second)) {
      plan.warnings.push_back("C-FIND returned a series without a valid Series Instance UID; ignored");
      continue;
    }
    const std::string& uid = it->second;
    if (!seen_series.insert(uid).second) continue;
    STRATA_ASSIGN_OR_RETURN(auto images, FindStudyRoot(*assoc, "IMAGE",
                                                       {{tags::kStudyInstanceUID, o.study_uid},
                                                        {tags::kSeriesInstanceUID, uid},
                                                        {tags::kSOPInstanceUID, ""},
                                                        {tags::kSOPClassUID, ""}}));
    SeriesInstances si{uid, {}};
    std::set<std::string> sops;
    for (const auto& im : images) {
      auto sop = im.find(tags::kSOPInstanceUID);
      if (sop == im.end() || !IsValidUid(sop->second)) {
        plan.warnings.push_back("series " + uid + ": C-FIND returned an instance without a valid SOP Instance UID");
        continue;
      }
      if (!sops.insert(sop->second).second) continue;
      si.sop_uids.push_back(sop->second);
      auto cls = im.find(tags::kSOPClassUID);
      if (cls != im.end() && IsValidUid(cls->second)) classes.insert(cls->second);
    }
    auto count = s.find(tags::kNumberOfSeriesRelatedInstances);
    if (count != s.end() && !count->second.empty() && count->second != std::to_string(si.sop_uids.size()))
      plan.warnings.push_back("series " + uid + ": Number of Series Related Instances is " + count->second + " but " +
                              std::to_string(si.sop_uids.size()) + " instances were listed");
    plan.instances += si.sop_uids.size();
    plan.series.push_back(std::move(si));
  }
  (void)assoc->Release();  // the work is done; a failed release only means the peer went first
  if (plan.instances == 0)
    return Status::NotFound((o.series_uid.empty() ? "study " + o.study_uid : "series " + o.series_uid) +
                            " has no instances on " + o.node.ToString());
  plan.sop_classes.assign(classes.begin(), classes.end());
  plan.units = SplitRetrieve(plan.series, o.parallel);
  return plan;
}

}  // namespace strata
