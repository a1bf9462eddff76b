// STOW-RS (PS3.18 10.5): POST /dicomweb/studies[/{study}] with a multipart/related;
// type="application/dicom" body. Each part streams into a temp file on the hot tier's
// filesystem (Archive::NewIncomingPath) as it arrives, then Archive::StoreFile takes it over
// (a rename, not a copy; the same path DIMSE C-STORE takes), with up to kStowParallel stores
// in flight so the GroupCommitter can batch them. Memory stays at one overlap window per
// request whatever the size of the body.
// Response (application/dicom+json): ReferencedSOPSequence (stored, with RetrieveURL and a
// WarningReason for a kept duplicate), FailedSOPSequence (with FailureReason), RetrieveURL of
// the study. Status: 200 all stored, 202 some failed or warned, 409 none stored, 503 none
// stored because storage is unavailable, 400 malformed body (before any instance was stored;
// after some, 202 with the broken part in FailedSOPSequence, PS3.18 10.5.3), 415 another media
// type (multipart/form-data included).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dicom/dimse_status_codes.h"
#include "util/status.h"

namespace strata::web {

inline constexpr int kStowParallel = 4;

// Failure and warning reasons (PS3.18 Table 10.5.3-2/3, PS3.4 B.2.3): the C-STORE codes of
// dicom/dimse_status_codes.h under the names STOW-RS uses.
inline constexpr uint16_t kStowOutOfResources = kStoreOutOfResources;
inline constexpr uint16_t kStowDoesNotMatch = kStoreDataSetDoesNotMatch;  // e.g. not of the study in the URL
inline constexpr uint16_t kStowCannotUnderstand = kStoreCannotUnderstand;
inline constexpr uint16_t kStowProcessingFailure = kProcessingFailure;
inline constexpr uint16_t kStowDuplicate = kStatusDuplicateSopInstance;
inline constexpr uint16_t kStowElementsDiscarded = kStoreElementsDiscarded;  // duplicate: the stored one was kept

// The outcome of one part.
struct StowItem {
  std::string sop_class_uid, sop_instance_uid;  // may be empty when the part was unreadable
  std::string study_uid, series_uid;            // of a stored instance
  Status status;                                // ok = stored
  uint16_t failure_reason = 0;                  // non-zero: overrides StowFailureReason(status)
  uint16_t warning_reason = 0;                  // non-zero: stored with a warning
};

uint16_t StowFailureReason(const Status& s);

struct StowResponse {
  int http_status = 200;
  nlohmann::json body;
};
// BASE_URL "http://host"; TARGET_STUDY is the study of the URL ("" for /studies).
StowResponse BuildStowResponse(const std::vector<StowItem>& items, const std::string& base_url,
                               const std::string& target_study);

}  // namespace strata::web
