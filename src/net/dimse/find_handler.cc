#include "net/dimse/find_handler.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcelem.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include "dicom/charset.h"
#include "model/request_attributes.h"
#include "model/uid.h"

namespace strata {
namespace {

std::string ElementString(DcmElement* el) {
  OFString v;
  if (el->getOFStringArray(v).bad()) return {};
  std::string s(v.c_str(), v.length());
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  size_t start = 0;
  while (start < s.size() && s[start] == ' ') ++start;
  return s.substr(start);
}

std::string RequestCharset(DcmDataset* ds) {
  OFString cs;
  if (ds->findAndGetOFStringArray(DCM_SpecificCharacterSet, cs).bad()) return {};
  return std::string(cs.c_str(), cs.length());
}

bool IsAscii(const std::string& s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

Result<QueryLevel> ReadLevel(DcmDataset* ds, QueryRoot root) {
  OFString lvl;
  if (ds->findAndGetOFString(DCM_QueryRetrieveLevel, lvl).bad())
    return Status::InvalidArgument("QueryRetrieveLevel (0008,0052) missing");
  std::string l(lvl.c_str());
  while (!l.empty() && l.back() == ' ') l.pop_back();
  if (l == "PATIENT") {
    if (root == QueryRoot::kStudy) return Status::InvalidArgument("PATIENT level is not part of Study Root");
    return QueryLevel::kPatient;
  }
  if (l == "STUDY") return QueryLevel::kStudy;
  if (l == "SERIES") return QueryLevel::kSeries;
  if (l == "IMAGE" || l == "INSTANCE") return QueryLevel::kInstance;
  return Status::InvalidArgument("unknown QueryRetrieveLevel '" + l + "'");
}

std::vector<std::string> SplitUids(const std::string& v) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t p = v.find('\\', start);
    std::string u = TrimUid(v.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (!u.empty()) out.push_back(u);
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return out;
}

}  // namespace

Result<Query> IdentifierToQuery(DcmDataset* identifier, QueryRoot root) {
  Query q;
  STRATA_ASSIGN_OR_RETURN(q.level, ReadLevel(identifier, root));
  // Keys are matched against the catalog's UTF-8 text: decode them from the request's own
  // character set first (a Latin-1 "M\xfcller*" finds what a UTF-8 sender stored).
  const CharsetDecoder decoder(RequestCharset(identifier));
  for (unsigned long i = 0; i < identifier->card(); ++i) {
    DcmElement* el = identifier->getElement(i);
    if (!el || el->ident() == EVR_SQ) continue;
    const DcmTagKey key = el->getTag().getXTag();
    const Tag tag = MakeTag(key.getGroup(), key.getElement());
    if (tag == tags::kQueryRetrieveLevel || tag == tags::kSpecificCharacterSet) continue;
    q.keys.emplace_back(tag, decoder.Decode(ElementString(el), TextKindOfVr(el->getTag().getVRName())));
  }
  return q;
}

DcmDataset* MatchToIdentifier(DcmDataset* request, const AttributeValues& match, QueryLevel level) {
  // The values, as the catalog holds them (UTF-8).
  std::vector<std::pair<DcmTagKey, std::string>> values;
  std::vector<DcmTagKey> sequences;
  for (unsigned long i = 0; i < request->card(); ++i) {
    DcmElement* el = request->getElement(i);
    if (!el) continue;
    const DcmTagKey key = el->getTag().getXTag();
    const Tag tag = MakeTag(key.getGroup(), key.getElement());
    if (tag == tags::kQueryRetrieveLevel || tag == tags::kSpecificCharacterSet) continue;
    if (el->ident() == EVR_SQ) {
      sequences.push_back(key);
      continue;
    }
    auto it = match.find(tag);
    values.emplace_back(key, it != match.end() ? it->second : std::string());
  }
  // Answer in the requester's character set when every value fits it, else in UTF-8
  // (PS3.4 C.4.1.1.3.1 lets the SCP choose; UTF-8 holds every name).
  const bool asked = request->tagExists(DCM_SpecificCharacterSet);
  std::string charset = asked ? RequestCharset(request) : std::string();
  bool fits = asked;
  if (asked) {
    for (auto& [key, v] : values) {
      auto encoded = EncodeForCharset(charset, v);
      if (!encoded) {
        fits = false;
        break;
      }
    }
  }
  bool ascii = true;
  for (const auto& [key, v] : values) ascii = ascii && IsAscii(v);
  auto* out = new DcmDataset();
  for (const auto& key : sequences) {
    // The Request Attributes Sequence is catalogued (schema v6): its items as QIDO-RS returns
    // them. Other sequences are returned empty (PS3.4 allows it). IDs are SH: ASCII-safe in
    // every character set the request may name, written as stored.
    auto it = match.find(MakeTag(key.getGroup(), key.getElement()));
    if (key == DCM_RequestAttributesSequence && it != match.end() && !it->second.empty()) {
      auto* sq = new DcmSequenceOfItems(key);
      for (const auto& item : DecodeRequestAttributes(it->second)) {
        auto* di = new DcmItem();
        di->putAndInsertString(DCM_ScheduledProcedureStepID, item.scheduled_procedure_step_id.c_str());
        di->putAndInsertString(DCM_RequestedProcedureID, item.requested_procedure_id.c_str());
        sq->append(di);
      }
      out->insert(sq, true);
      continue;
    }
    out->insertEmptyElement(key);
  }
  for (const auto& [key, v] : values) {
    const DcmEVR vr = DcmTag(key).getEVR();
    if (vr == EVR_US || vr == EVR_UL || vr == EVR_SS || vr == EVR_SL || vr == EVR_FL || vr == EVR_FD) {
      // Binary numbers (Rows, Columns, Bits Allocated): putAndInsertOFStringArray takes only
      // string VRs and would drop them; the catalog's decimal text is parsed instead.
      out->putAndInsertString(key, v.c_str());
      continue;
    }
    std::string bytes = fits ? EncodeForCharset(charset, v).value_or(v) : v;
    out->putAndInsertOFStringArray(key, OFString(bytes.data(), bytes.size()));
  }
  out->putAndInsertString(DCM_QueryRetrieveLevel, QueryLevelName(level));
  if (fits) {
    out->putAndInsertOFStringArray(DCM_SpecificCharacterSet, OFString(charset.data(), charset.size()));
  } else if (asked || !ascii) {
    out->putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192");
  }
  return out;
}

Result<RetrieveKeys> IdentifierToRetrieveKeys(DcmDataset* identifier, QueryRoot root) {
  RetrieveKeys k;
  STRATA_ASSIGN_OR_RETURN(k.level, ReadLevel(identifier, root));
  OFString v;
  auto read_uids = [&](const DcmTagKey& key, const char* what, std::vector<std::string>* out) -> Status {
    if (identifier->findAndGetOFStringArray(key, v).good()) {
      *out = SplitUids(v.c_str());
      for (const auto& u : *out) STRATA_RETURN_IF_ERROR(ValidateUid(u, what));
    }
    return Status::OK();
  };
  STRATA_RETURN_IF_ERROR(read_uids(DCM_StudyInstanceUID, "StudyInstanceUID", &k.study_uids));
  STRATA_RETURN_IF_ERROR(read_uids(DCM_SeriesInstanceUID, "SeriesInstanceUID", &k.series_uids));
  STRATA_RETURN_IF_ERROR(read_uids(DCM_SOPInstanceUID, "SOPInstanceUID", &k.sop_uids));
  if (identifier->findAndGetOFStringArray(DCM_PatientID, v).good()) k.patient_id = v.c_str();
  // PS3.4 C.4.2.2.1 / C.4.3.2.1: retrieve keys are single values (UIDs may be lists), never
  // wildcards: `PatientID=*` would otherwise retrieve every patient.
  if (k.patient_id.find_first_of("*?\\") != std::string::npos)
    return Status::InvalidArgument("PatientID of a retrieve must be a single value, not '" + k.patient_id + "'");
  switch (k.level) {
    case QueryLevel::kPatient:
      if (k.patient_id.empty()) return Status::InvalidArgument("PATIENT level retrieve needs PatientID");
      break;
    case QueryLevel::kStudy:
      if (k.study_uids.empty()) return Status::InvalidArgument("STUDY level retrieve needs StudyInstanceUID");
      break;
    case QueryLevel::kSeries:
      if (k.series_uids.empty()) return Status::InvalidArgument("SERIES level retrieve needs SeriesInstanceUID");
      break;
    case QueryLevel::kInstance:
      if (k.sop_uids.empty()) return Status::InvalidArgument("IMAGE level retrieve needs SOPInstanceUID");
      break;
  }
  return k;
}

}  // namespace strata
