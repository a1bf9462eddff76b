#include "model/attributes.h"

#include <cstdio>
#include <unordered_map>

namespace strata {

const char* QueryLevelName(QueryLevel l) {
  switch (l) {
    case QueryLevel::kPatient: return "PATIENT";
    case QueryLevel::kStudy: return "STUDY";
    case QueryLevel::kSeries: return "SERIES";
    case QueryLevel::kInstance: return "IMAGE";
  }
  return "?";
}

const std::vector<AttributeDef>& AllAttributes() {
  using K = MatchKind;
  using L = QueryLevel;
  static const std::vector<AttributeDef> defs = {
      {tags::kPatientName, "PatientName", "PN", L::kPatient, K::kPersonName, "p.patient_name"},
      {tags::kPatientID, "PatientID", "LO", L::kPatient, K::kString, "p.patient_id"},
      {tags::kIssuerOfPatientID, "IssuerOfPatientID", "LO", L::kPatient, K::kString, "p.issuer"},
      {tags::kPatientBirthDate, "PatientBirthDate", "DA", L::kPatient, K::kDate, "p.birth_date"},
      {tags::kPatientSex, "PatientSex", "CS", L::kPatient, K::kString, "p.sex"},
      {tags::kNumberOfPatientRelatedStudies, "NumberOfPatientRelatedStudies", "IS", L::kPatient, K::kComputed, ""},
      {tags::kNumberOfPatientRelatedSeries, "NumberOfPatientRelatedSeries", "IS", L::kPatient, K::kComputed, ""},
      {tags::kNumberOfPatientRelatedInstances, "NumberOfPatientRelatedInstances", "IS", L::kPatient, K::kComputed, ""},
      {tags::kStudyInstanceUID, "StudyInstanceUID", "UI", L::kStudy, K::kUid, "st.study_uid"},
      {tags::kStudyDate, "StudyDate", "DA", L::kStudy, K::kDate, "st.study_date"},
      {tags::kStudyTime, "StudyTime", "TM", L::kStudy, K::kTime, "st.study_time"},
      {tags::kAccessionNumber, "AccessionNumber", "SH", L::kStudy, K::kString, "st.accession"},
      {tags::kStudyID, "StudyID", "SH", L::kStudy, K::kString, "st.study_id"},
      // Catalogued per study from its first instance (one value answers all three levels).
      {tags::kTimezoneOffsetFromUTC, "TimezoneOffsetFromUTC", "SH", L::kStudy, K::kString, "st.timezone_offset"},
      {tags::kStudyDescription, "StudyDescription", "LO", L::kStudy, K::kString, "st.description"},
      {tags::kReferringPhysicianName, "ReferringPhysicianName", "PN", L::kStudy, K::kPersonName, "st.referring"},
      {tags::kModalitiesInStudy, "ModalitiesInStudy", "CS", L::kStudy, K::kComputed, "st.modalities"},
      {tags::kNumberOfStudyRelatedSeries, "NumberOfStudyRelatedSeries", "IS", L::kStudy, K::kComputed, "st.num_series"},
      {tags::kNumberOfStudyRelatedInstances, "NumberOfStudyRelatedInstances", "IS", L::kStudy, K::kComputed, "st.num_instances"},
      {tags::kSeriesInstanceUID, "SeriesInstanceUID", "UI", L::kSeries, K::kUid, "se.series_uid"},
      {tags::kModality, "Modality", "CS", L::kSeries, K::kString, "se.modality"},
      {tags::kSeriesNumber, "SeriesNumber", "IS", L::kSeries, K::kInt, "se.series_number"},
      {tags::kSeriesDescription, "SeriesDescription", "LO", L::kSeries, K::kString, "se.description"},
      {tags::kBodyPartExamined, "BodyPartExamined", "CS", L::kSeries, K::kString, "se.body_part"},
      {tags::kSeriesDate, "SeriesDate", "DA", L::kSeries, K::kDate, "se.series_date"},
      {tags::kSeriesTime, "SeriesTime", "TM", L::kSeries, K::kTime, "se.series_time"},
      {tags::kPerformedProcedureStepStartDate, "PerformedProcedureStepStartDate", "DA", L::kSeries, K::kDate, "se.pps_start_date"},
      {tags::kPerformedProcedureStepStartTime, "PerformedProcedureStepStartTime", "TM", L::kSeries, K::kTime, "se.pps_start_time"},
      {tags::kRequestAttributesSequence, "RequestAttributesSequence", "SQ", L::kSeries, K::kSequence, "se.request_attributes"},
      {tags::kNumberOfSeriesRelatedInstances, "NumberOfSeriesRelatedInstances", "IS", L::kSeries, K::kComputed, "se.num_instances"},
      {tags::kSOPInstanceUID, "SOPInstanceUID", "UI", L::kInstance, K::kUid, "i.sop_uid"},
      {tags::kSOPClassUID, "SOPClassUID", "UI", L::kInstance, K::kUid, "i.sop_class"},
      {tags::kInstanceNumber, "InstanceNumber", "IS", L::kInstance, K::kInt, "i.instance_number"},
      {tags::kRows, "Rows", "US", L::kInstance, K::kInt, "i.rows"},
      {tags::kColumns, "Columns", "US", L::kInstance, K::kInt, "i.columns"},
      {tags::kNumberOfFrames, "NumberOfFrames", "IS", L::kInstance, K::kInt, "i.frames"},
      {tags::kBitsAllocated, "BitsAllocated", "US", L::kInstance, K::kInt, "i.bits_allocated"},
  };
  return defs;
}

const AttributeDef* FindAttribute(Tag tag) {
  static const auto* index = [] {
    auto* m = new std::unordered_map<Tag, const AttributeDef*>();
    for (const auto& d : AllAttributes()) (*m)[d.tag] = &d;
    return m;
  }();
  auto it = index->find(tag);
  return it == index->end() ? nullptr : it->second;
}

const AttributeDef* FindAttributeByName(const std::string& name) {
  for (const auto& d : AllAttributes())
    if (name == d.keyword) return &d;
  if (name.size() == 8) {
    unsigned v = 0;
    for (char c : name) {
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
      else return nullptr;
    }
    return FindAttribute(v);
  }
  return nullptr;
}

}  // namespace strata
