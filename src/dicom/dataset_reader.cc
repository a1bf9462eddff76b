#include "dicom/dataset_reader.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcjson.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include <sstream>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/oflog/oflog.h>

#include <mutex>
#include <set>

#include "dicom/charset.h"
#include "dicom/unknown_vr.h"
#include "model/request_attributes.h"
#include "model/uid.h"
#include "util/log.h"
#include "util/utf8.h"

namespace strata {
namespace {

// Elements longer than this stay on disk (Pixel Data, big private blobs).
constexpr Uint32 kMaxReadLength = 4096;

std::string GetString(DcmItem* ds, const DcmTagKey& key) {
  OFString v;
  if (ds->findAndGetOFStringArray(key, v).good()) {
    std::string s(v.c_str(), v.length());
    // DICOM pads to even length with space (or NUL for UI).
    while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
    size_t start = 0;
    while (start < s.size() && s[start] == ' ') ++start;
    return s.substr(start);
  }
  return {};
}

// A text attribute (PN, LO, SH) decoded from the data set's character set to UTF-8.
struct TextReader {
  DcmItem* ds;
  CharsetDecoder decoder;
  size_t escaped = 0;
  std::string operator()(const DcmTagKey& key, TextKind kind) {
    size_t bad = 0;
    std::string v = decoder.Decode(GetString(ds, key), kind, &bad);
    escaped += bad;
    return v;
  }
};

// Logs an undecodable text once per Specific Character Set value for the life of the process:
// a modality sending one wrong name sends it on every image, and one line says it all.
void WarnUndecodableOnce(const std::string& charset, const std::string& sop, size_t escaped, size_t unknown) {
  static std::mutex mu;
  static std::set<std::string> warned;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (warned.size() >= 256 || !warned.insert(charset).second) return;  // bounded: hostile input
  }
  spdlog::warn("event=charset_undecodable charset=\"{}\" first_sop={} escaped_bytes={} unknown_terms={}"
               " (stored and catalogued with the bytes escaped; logged once per character set)",
               EscapeInvalidUtf8(charset), sop, escaped, unknown);
}

int64_t GetInt(DcmItem* ds, const DcmTagKey& key) {
  std::string s = GetString(ds, key);
  if (s.empty()) {
    Uint16 us = 0;
    if (ds->findAndGetUint16(key, us).good()) return us;
    return 0;
  }
  try {
    return std::stoll(s);
  } catch (...) {
    return 0;
  }
}

// Values longer than this stay out of the catalog's header copy (pixels, LUTs, overlays,
// private blobs): QIDO-RS returns them from the file as bulk data, never from the catalog.
constexpr Uint32 kMaxHeaderValue = 1024;

bool IsBinaryVr(DcmEVR vr) {
  return vr == EVR_OB || vr == EVR_OW || vr == EVR_OF || vr == EVR_OD || vr == EVR_OL || vr == EVR_OV ||
         vr == EVR_UN || vr == EVR_ox || vr == EVR_px || vr == EVR_pixelSQ;
}

// Removes, at every depth, what must not go into the header copy; false if ITEM is empty after.
void StripBulk(DcmItem* item) {
  for (unsigned long i = item->card(); i-- > 0;) {
    DcmElement* el = item->getElement(i);
    const DcmTagKey key = el->getTag().getXTag();
    bool drop = key == DCM_PixelData || key.getGroup() == 0x7FE0 || IsBinaryVr(el->ident()) ||
                (el->ident() != EVR_SQ && el->getLength() > kMaxHeaderValue);
    if (!drop && el->ident() == EVR_SQ) {
      auto* sq = static_cast<DcmSequenceOfItems*>(el);
      for (unsigned long k = 0; k < sq->card(); ++k) StripBulk(sq->getItem(k));
    }
    if (drop) delete item->remove(i);
  }
}

// The data set's attributes as DICOM JSON (PS3.18 F.2) without bulk data, text in UTF-8: what
// QIDO-RS `includefield` returns for an attribute the catalog has no column for.
std::string HeaderJson(DcmDataset* ds) {
  DcmDataset copy(*ds);
  StripBulk(&copy);
  if (copy.tagExists(DCM_SpecificCharacterSet) && copy.convertToUTF8().bad()) {
    // An undecodable character set: keep only the ASCII-safe attributes out of the copy.
    for (unsigned long i = copy.card(); i-- > 0;) {
      DcmElement* el = copy.getElement(i);
      const DcmEVR vr = el->ident();
      if (vr == EVR_PN || vr == EVR_LO || vr == EVR_SH || vr == EVR_ST || vr == EVR_LT || vr == EVR_UT ||
          vr == EVR_UC || vr == EVR_SQ)
        delete copy.remove(i);
    }
  }
  std::ostringstream os;
  DcmJsonFormatCompact format(OFFalse);
  if (copy.writeJsonExt(os, format, OFTrue, OFFalse).bad()) return {};
  return os.str();
}

std::string RequestAttributes(DcmDataset* ds) {
  DcmSequenceOfItems* sq = nullptr;
  if (ds->findAndGetSequence(DCM_RequestAttributesSequence, sq).bad() || sq == nullptr) return {};
  std::vector<RequestAttributesItem> items;
  for (unsigned long k = 0; k < sq->card(); ++k) {
    DcmItem* item = sq->getItem(k);
    items.push_back({GetString(item, DCM_ScheduledProcedureStepID), GetString(item, DCM_RequestedProcedureID)});
  }
  return EncodeRequestAttributes(items);
}

Status Fill(DcmFileFormat& ff, InstanceRecord* out) {
  DcmDataset* ds = ff.getDataset();
  ResolveUnknownVrs(ds);
  DcmMetaInfo* meta = ff.getMetaInfo();
  InstanceRecord& r = *out;
  r.sop_uid = TrimUid(GetString(ds, DCM_SOPInstanceUID));
  r.sop_class_uid = TrimUid(GetString(ds, DCM_SOPClassUID));
  r.study_uid = TrimUid(GetString(ds, DCM_StudyInstanceUID));
  r.series_uid = TrimUid(GetString(ds, DCM_SeriesInstanceUID));
  STRATA_RETURN_IF_ERROR(ValidateUid(r.sop_uid, "SOPInstanceUID"));
  STRATA_RETURN_IF_ERROR(ValidateUid(r.sop_class_uid, "SOPClassUID"));
  STRATA_RETURN_IF_ERROR(ValidateUid(r.study_uid, "StudyInstanceUID"));
  STRATA_RETURN_IF_ERROR(ValidateUid(r.series_uid, "SeriesInstanceUID"));
  // The meta header must agree with the dataset about identity.
  std::string meta_sop = TrimUid(GetString(meta, DCM_MediaStorageSOPInstanceUID));
  if (!meta_sop.empty() && meta_sop != r.sop_uid)
    return Status::InvalidArgument("MediaStorageSOPInstanceUID " + meta_sop +
                                   " differs from SOPInstanceUID " + r.sop_uid);
  r.transfer_syntax = TrimUid(GetString(meta, DCM_TransferSyntaxUID));
  if (r.transfer_syntax.empty()) {
    DcmXfer x(ds->getOriginalXfer());
    r.transfer_syntax = x.getXferID();
  }
  STRATA_RETURN_IF_ERROR(ValidateUid(r.transfer_syntax, "TransferSyntaxUID"));

  OFString charset;
  ds->findAndGetOFStringArray(DCM_SpecificCharacterSet, charset);
  TextReader text{ds, CharsetDecoder(std::string_view(charset.c_str(), charset.length()))};
  constexpr TextKind kPn = TextKind::kPersonName, kLo = TextKind::kMultiValued;
  r.patient_id = text(DCM_PatientID, kLo);
  r.issuer = text(DCM_IssuerOfPatientID, kLo);
  r.patient_name = text(DCM_PatientName, kPn);
  r.birth_date = GetString(ds, DCM_PatientBirthDate);
  r.sex = GetString(ds, DCM_PatientSex);
  r.study_date = GetString(ds, DCM_StudyDate);
  r.study_time = GetString(ds, DCM_StudyTime);
  r.accession = text(DCM_AccessionNumber, kLo);
  r.study_id = text(DCM_StudyID, kLo);
  r.study_description = text(DCM_StudyDescription, kLo);
  r.referring_physician = text(DCM_ReferringPhysicianName, kPn);
  r.modality = GetString(ds, DCM_Modality);
  r.series_description = text(DCM_SeriesDescription, kLo);
  r.body_part = text(DCM_BodyPartExamined, kLo);
  r.series_date = GetString(ds, DCM_SeriesDate);
  r.series_time = GetString(ds, DCM_SeriesTime);
  // Catalogued anyway (a store never fails on text); the escaped bytes keep what was sent.
  if (text.escaped > 0 || !text.decoder.unknown_terms().empty())
    WarnUndecodableOnce(std::string(charset.c_str(), charset.length()), r.sop_uid, text.escaped,
                        text.decoder.unknown_terms().size());
  r.series_number = GetInt(ds, DCM_SeriesNumber);
  r.instance_number = GetInt(ds, DCM_InstanceNumber);
  r.rows = GetInt(ds, DCM_Rows);
  r.columns = GetInt(ds, DCM_Columns);
  r.frames = GetInt(ds, DCM_NumberOfFrames);
  r.bits_allocated = GetInt(ds, DCM_BitsAllocated);
  r.timezone_offset = GetString(ds, DCM_TimezoneOffsetFromUTC);
  r.pps_start_date = GetString(ds, DCM_PerformedProcedureStepStartDate);
  r.pps_start_time = GetString(ds, DCM_PerformedProcedureStepStartTime);
  r.request_attributes = RequestAttributes(ds);
  r.header_json = HeaderJson(ds);
  return Status::OK();
}

}  // namespace

Status ReadInstanceAttributes(const std::string& path, InstanceRecord* out) {
  DcmFileFormat ff;
  OFCondition cond = ff.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, kMaxReadLength,
                                 ERM_autoDetect);
  if (cond.bad()) return Status::InvalidArgument(std::string("not a readable DICOM file: ") + cond.text());
  return Fill(ff, out);
}

Status ReadInstanceAttributesFromBuffer(std::string_view bytes, InstanceRecord* out) {
  // Stopping at Pixel Data is intended; DCMTK warns about it on every call otherwise.
  static const bool quiet = [] {
    OFLog::getLogger("dcmtk.dcmdata").setLogLevel(OFLogger::ERROR_LOG_LEVEL);
    return true;
  }();
  (void)quiet;
  DcmInputBufferStream in;
  in.setBuffer(bytes.data(), static_cast<offile_off_t>(bytes.size()));
  in.setEos();
  DcmFileFormat ff;
  ff.transferInit();
  // Stop at Pixel Data: everything the catalog needs comes before it, and the pixels are
  // most of the bytes.
  OFCondition cond = ff.readUntilTag(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength, DCM_PixelData);
  ff.transferEnd();
  if (cond.bad()) return Status::InvalidArgument(std::string("not a readable DICOM file: ") + cond.text());
  return Fill(ff, out);
}

}  // namespace strata
