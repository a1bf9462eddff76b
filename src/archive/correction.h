// Corrections (issue 15): the patient/study attributes an operator may change, and how a new
// value is validated. Archive::Correct / Archive::MergePatients (correction.cc) write a durable
// record of the change to the cold store first (correction_log.h: a catalog rebuilt from the
// stores re-applies it), then the change to the catalog with its records
// (Catalog::CorrectStudy / MergePatients: one transaction, every node's queries see it at
// once) and log one line per changed attribute;
// Archive::ReadServed patches the stored bytes on the way out (correction_patch.h).
//
// The set is the patient and study attributes the catalog has a column for, so that C-FIND
// and QIDO-RS answer with the corrected value, and that no UID (which would re-identify the
// study) is among them:
//   patient: PatientID (LO), IssuerOfPatientID (LO), PatientName (PN), PatientBirthDate (DA),
//            PatientSex (CS: M, F, O or empty)
//   study:   StudyDate (DA), AccessionNumber (SH), StudyID (SH), StudyDescription (LO),
//            ReferringPhysicianName (PN)
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "util/status.h"

namespace strata {

struct CorrectableAttribute {
  const char* keyword;
  uint32_t tag;
  const char* vr;      // LO, SH, PN, DA or CS
  bool patient_level;  // else study level
};

// The attributes a correction may change (the table above).
const std::vector<CorrectableAttribute>& CorrectableAttributes();
// By keyword ("PatientName") or tag as 8 hex digits ("00100010"); nullptr if not correctable.
const CorrectableAttribute* FindCorrectable(const std::string& name);

// Checks VALUE (UTF-8) against ATTR's VR (PS3.5 6.2): LO 64 / SH 16 characters without
// backslash or control characters; PN at most 3 component groups of 64 characters with 5
// components each; DA a real date YYYYMMDD; CS up to 16 of A-Z 0-9 space underscore
// (PatientSex M, F or O). Empty values are allowed (the attribute is emptied), except
// PatientID. kInvalidArgument naming the attribute otherwise.
Status ValidateCorrectionValue(const CorrectableAttribute& attr, const std::string& value);

// KEYWORD_VALUES as the tags and values Catalog::CorrectStudy takes, each validated; an
// unknown or repeated keyword, a bad value or an empty list is kInvalidArgument.
Result<std::vector<std::pair<uint32_t, std::string>>> ParseCorrections(
    const std::vector<std::pair<std::string, std::string>>& keyword_values);

// The keyword of a correctable TAG ("" if none), for log lines and answers.
std::string CorrectableKeyword(uint32_t tag);

}  // namespace strata
