#include "transfer/context_plan.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <algorithm>
#include <map>
#include <set>

#include "dicom/transfer_syntax.h"

namespace strata {

std::vector<ContextGroup> GroupFilesByContexts(const std::vector<DicomFileInfo>& files, size_t max_contexts) {
  if (max_contexts == 0) max_contexts = 1;
  std::set<StorageCombo> distinct;
  for (const auto& f : files) distinct.insert({f.sop_class_uid, f.transfer_syntax});
  // Sorted combinations cut into chunks: the combinations of one SOP class stay together.
  std::map<StorageCombo, size_t> group_of;
  std::vector<ContextGroup> groups;
  for (const auto& c : distinct) {
    if (groups.empty() || groups.back().combos.size() == max_contexts) groups.emplace_back();
    groups.back().combos.push_back(c);
    group_of[c] = groups.size() - 1;
  }
  for (size_t i = 0; i < files.size(); ++i) {
    auto& g = groups[group_of.at({files[i].sop_class_uid, files[i].transfer_syntax})];
    g.files.push_back(i);
    g.bytes += files[i].size;
  }
  return groups;
}

std::vector<PresentationContextSpec> StorageContexts(const std::vector<StorageCombo>& combos) {
  std::vector<PresentationContextSpec> out;
  uint8_t id = 1;
  for (const auto& c : combos) {
    if (out.size() == kMaxPresentationContexts) break;
    out.push_back({id, c.sop_class, {c.transfer_syntax}, false});
    id = static_cast<uint8_t>(id + 2);
  }
  return out;
}

const std::vector<std::string>& RetrieveExactSyntaxes() {
  // Most common first: when space runs out, the rare ones go.
  static const std::vector<std::string> k = {
      syntax::kImplicitLE,  syntax::kJpegLsLossless,
      syntax::kJ2kLossless,  syntax::kJpegLosslessSV1,
      syntax::kJpegBaseline,          syntax::kJpegExtended,
      syntax::kJpegLossless,         syntax::kJpegLsNearLossless,
      syntax::kJ2k,              syntax::kRleLossless,
      syntax::kDeflatedLE, syntax::kExplicitBE,
  };
  return k;
}

const std::vector<std::string>& NativeSyntaxes() {
  static const std::vector<std::string> k = {syntax::kExplicitLE,
                                             syntax::kImplicitLE,
                                             syntax::kExplicitBE};
  return k;
}

const std::vector<std::string>& DefaultRetrieveSopClasses() {
  // Image classes first: they are the ones that get compressed contexts when space runs out.
  static const std::vector<std::string> k = {
      UID_CTImageStorage,
      UID_MRImageStorage,
      UID_ComputedRadiographyImageStorage,
      UID_DigitalXRayImageStorageForPresentation,
      UID_DigitalMammographyXRayImageStorageForPresentation,
      UID_UltrasoundImageStorage,
      UID_UltrasoundMultiframeImageStorage,
      UID_SecondaryCaptureImageStorage,
      UID_EnhancedCTImageStorage,
      UID_EnhancedMRImageStorage,
      UID_XRayAngiographicImageStorage,
      UID_NuclearMedicineImageStorage,
      UID_PositronEmissionTomographyImageStorage,
      UID_MultiframeGrayscaleWordSecondaryCaptureImageStorage,
      UID_MultiframeGrayscaleByteSecondaryCaptureImageStorage,
      UID_MultiframeTrueColorSecondaryCaptureImageStorage,
      UID_DigitalXRayImageStorageForProcessing,
      UID_XRayRadiofluoroscopicImageStorage,
      UID_RTImageStorage,
      UID_RTDoseStorage,
      UID_RTStructureSetStorage,
      UID_RTPlanStorage,
      UID_SegmentationStorage,
      UID_GrayscaleSoftcopyPresentationStateStorage,
      UID_BasicTextSRStorage,
      UID_EnhancedSRStorage,
      UID_ComprehensiveSRStorage,
      UID_KeyObjectSelectionDocumentStorage,
      UID_EncapsulatedPDFStorage,
  };
  return k;
}

std::vector<PresentationContextSpec> RetrieveContexts(const std::string& model,
                                                      const std::vector<std::string>& sop_classes,
                                                      size_t max_contexts) {
  max_contexts = std::min(max_contexts, kMaxPresentationContexts);
  std::vector<PresentationContextSpec> out;
  uint8_t id = 1;
  auto add = [&](const std::string& as, std::vector<std::string> ts, bool scp) {
    if (out.size() >= max_contexts) return false;
    out.push_back({id, as, std::move(ts), scp});
    id = static_cast<uint8_t>(id + 2);
    return true;
  };
  add(model, {syntax::kExplicitLE, syntax::kImplicitLE}, false);
  std::vector<std::string> classes;
  for (const auto& c : sop_classes)
    if (std::find(classes.begin(), classes.end(), c) == classes.end()) classes.push_back(c);
  for (const auto& c : classes)
    if (!add(c, NativeSyntaxes(), true)) return out;
  for (const auto& c : classes)
    for (const auto& ts : RetrieveExactSyntaxes())
      if (!add(c, {ts}, true)) return out;
  return out;
}

}  // namespace strata
