// Reading an IOCM rejection note with DCMTK (its sequences are beyond the ingest scan).
#include "archive/rejection.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include "model/uid.h"

namespace strata {
namespace {

std::string Str(DcmItem* item, const DcmTagKey& tag) {
  OFString v;
  if (item && item->findAndGetOFString(tag, v).good()) return std::string(v.c_str());
  return "";
}

}  // namespace

const char* RejectionReasonMeaning(const std::string& code) {
  if (code == "113001") return "Rejected for Quality Reasons";
  if (code == "113037") return "Rejected for Patient Safety Reasons";
  if (code == "113038") return "Incorrect Modality Worklist Entry";
  if (code == "113039") return "Data Retention Policy Expired";
  return nullptr;
}

Result<std::optional<RejectionNote>> ReadRejectionNote(const std::string& path) {
  DcmFileFormat ff;
  OFCondition c = ff.loadFile(path.c_str());
  if (c.bad()) return Status::InvalidArgument(std::string("cannot read the Key Object Selection: ") + c.text());
  DcmDataset* ds = ff.getDataset();
  if (Str(ds, DCM_SOPClassUID) != kKeyObjectSelectionSopClass) return std::optional<RejectionNote>();
  DcmItem* concept_name = nullptr;
  if (ds->findAndGetSequenceItem(DCM_ConceptNameCodeSequence, concept_name, 0).bad())
    return std::optional<RejectionNote>();
  const std::string code = Str(concept_name, DCM_CodeValue);
  if (Str(concept_name, DCM_CodingSchemeDesignator) != "DCM" || !RejectionReasonMeaning(code))
    return std::optional<RejectionNote>();
  RejectionNote note;
  note.note_sop_uid = Str(ds, DCM_SOPInstanceUID);
  note.reason_code = code;
  DcmSequenceOfItems* studies = nullptr;
  if (ds->findAndGetSequence(DCM_CurrentRequestedProcedureEvidenceSequence, studies).good() && studies) {
    for (unsigned long i = 0; i < studies->card(); ++i) {
      DcmItem* st = studies->getItem(i);
      const std::string study_uid = Str(st, DCM_StudyInstanceUID);
      STRATA_RETURN_IF_ERROR(ValidateUid(study_uid, "evidence StudyInstanceUID"));
      DcmSequenceOfItems* series = nullptr;
      if (st->findAndGetSequence(DCM_ReferencedSeriesSequence, series).bad() || !series) continue;
      for (unsigned long j = 0; j < series->card(); ++j) {
        DcmItem* se = series->getItem(j);
        const std::string series_uid = Str(se, DCM_SeriesInstanceUID);
        STRATA_RETURN_IF_ERROR(ValidateUid(series_uid, "evidence SeriesInstanceUID"));
        DcmSequenceOfItems* sops = nullptr;
        if (se->findAndGetSequence(DCM_ReferencedSOPSequence, sops).bad() || !sops) continue;
        for (unsigned long k = 0; k < sops->card(); ++k) {
          RejectionRecord r;
          r.sop_uid = Str(sops->getItem(k), DCM_ReferencedSOPInstanceUID);
          STRATA_RETURN_IF_ERROR(ValidateUid(r.sop_uid, "evidence ReferencedSOPInstanceUID"));
          r.series_uid = series_uid;
          r.study_uid = study_uid;
          r.reason_code = code;
          r.note_sop_uid = note.note_sop_uid;
          note.rejected.push_back(std::move(r));
        }
      }
    }
  }
  if (note.rejected.empty())
    return Status::InvalidArgument("rejection note " + note.note_sop_uid + " (" + code +
                                   ") references no instance in CurrentRequestedProcedureEvidenceSequence");
  return std::optional<RejectionNote>(std::move(note));
}

}  // namespace strata
