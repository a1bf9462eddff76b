// The query attributes Strata indexes: which DICOM tag lives at which level in which catalog
// column, and how it is matched. C-FIND and QIDO-RS both go through this one table.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace strata {

enum class QueryLevel { kPatient = 0, kStudy = 1, kSeries = 2, kInstance = 3 };
const char* QueryLevelName(QueryLevel l);  // "PATIENT", "STUDY", "SERIES", "IMAGE"

// How a value is matched (PS3.4 C.2.2.2).
enum class MatchKind {
  kString,    // single value or wildcard (* and ?), case-sensitive
  kPersonName,// like kString but case-insensitive (what users expect of names)
  kUid,       // single UID or a backslash-separated UID list
  kDate,      // single date or range (A-B, -B, A-)
  kTime,      // single time or range
  kInt,       // single number
  kComputed,  // return-only (counts, Modalities In Study); a matching value is matched in C++
  kSequence,  // return-only sequence (Request Attributes Sequence), kept encoded (request_attributes.h)
};

using Tag = uint32_t;  // (group << 16) | element
constexpr Tag MakeTag(uint16_t g, uint16_t e) { return (static_cast<uint32_t>(g) << 16) | e; }

struct AttributeDef {
  Tag tag;
  const char* keyword;  // DICOM keyword, e.g. "PatientName"
  const char* vr;       // two-letter VR
  QueryLevel level;
  MatchKind kind;
  const char* column;   // catalog column ("" for computed)
};

// All indexed attributes.
const std::vector<AttributeDef>& AllAttributes();
// Looks up by tag; nullptr when Strata does not index the tag.
const AttributeDef* FindAttribute(Tag tag);
// Looks up by keyword or by "ggggeeee" hex (as QIDO-RS allows); nullptr if unknown.
const AttributeDef* FindAttributeByName(const std::string& name);

namespace tags {
constexpr Tag kPatientName = MakeTag(0x0010, 0x0010);
constexpr Tag kPatientID = MakeTag(0x0010, 0x0020);
constexpr Tag kIssuerOfPatientID = MakeTag(0x0010, 0x0021);
constexpr Tag kPatientBirthDate = MakeTag(0x0010, 0x0030);
constexpr Tag kPatientSex = MakeTag(0x0010, 0x0040);
constexpr Tag kNumberOfPatientRelatedStudies = MakeTag(0x0020, 0x1200);
constexpr Tag kNumberOfPatientRelatedSeries = MakeTag(0x0020, 0x1202);
constexpr Tag kNumberOfPatientRelatedInstances = MakeTag(0x0020, 0x1204);
constexpr Tag kStudyInstanceUID = MakeTag(0x0020, 0x000D);
constexpr Tag kStudyDate = MakeTag(0x0008, 0x0020);
constexpr Tag kStudyTime = MakeTag(0x0008, 0x0030);
constexpr Tag kAccessionNumber = MakeTag(0x0008, 0x0050);
constexpr Tag kStudyID = MakeTag(0x0020, 0x0010);
constexpr Tag kStudyDescription = MakeTag(0x0008, 0x1030);
constexpr Tag kReferringPhysicianName = MakeTag(0x0008, 0x0090);
constexpr Tag kModalitiesInStudy = MakeTag(0x0008, 0x0061);
constexpr Tag kNumberOfStudyRelatedSeries = MakeTag(0x0020, 0x1206);
constexpr Tag kNumberOfStudyRelatedInstances = MakeTag(0x0020, 0x1208);
constexpr Tag kSeriesInstanceUID = MakeTag(0x0020, 0x000E);
constexpr Tag kModality = MakeTag(0x0008, 0x0060);
constexpr Tag kSeriesNumber = MakeTag(0x0020, 0x0011);
constexpr Tag kSeriesDescription = MakeTag(0x0008, 0x103E);
constexpr Tag kBodyPartExamined = MakeTag(0x0018, 0x0015);
constexpr Tag kSeriesDate = MakeTag(0x0008, 0x0021);
constexpr Tag kSeriesTime = MakeTag(0x0008, 0x0031);
constexpr Tag kNumberOfSeriesRelatedInstances = MakeTag(0x0020, 0x1209);
constexpr Tag kSOPInstanceUID = MakeTag(0x0008, 0x0018);
constexpr Tag kSOPClassUID = MakeTag(0x0008, 0x0016);
constexpr Tag kInstanceNumber = MakeTag(0x0020, 0x0013);
constexpr Tag kRows = MakeTag(0x0028, 0x0010);
constexpr Tag kColumns = MakeTag(0x0028, 0x0011);
constexpr Tag kNumberOfFrames = MakeTag(0x0028, 0x0008);
constexpr Tag kBitsAllocated = MakeTag(0x0028, 0x0100);
constexpr Tag kTimezoneOffsetFromUTC = MakeTag(0x0008, 0x0201);
constexpr Tag kPerformedProcedureStepStartDate = MakeTag(0x0040, 0x0244);
constexpr Tag kPerformedProcedureStepStartTime = MakeTag(0x0040, 0x0245);
constexpr Tag kRequestAttributesSequence = MakeTag(0x0040, 0x0275);
constexpr Tag kScheduledProcedureStepID = MakeTag(0x0040, 0x0009);
constexpr Tag kRequestedProcedureID = MakeTag(0x0040, 0x1001);
constexpr Tag kQueryRetrieveLevel = MakeTag(0x0008, 0x0052);
constexpr Tag kSpecificCharacterSet = MakeTag(0x0008, 0x0005);
// Not a DICOM tag (group 0xFFFF is never used): the key under which Catalog::Find returns
// the match's header as DICOM JSON when Query::with_header is set.
constexpr Tag kHeaderJson = MakeTag(0xFFFF, 0xFFFF);
}  // namespace tags

}  // namespace strata
