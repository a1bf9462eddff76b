// C-STORE of one file over an open association, in the file's own transfer syntax (the
// association must have accepted exactly that SOP class / syntax pair). The outcome says
// whether the association is still usable.
#pragma once

#include <cstdint>
#include <string>

#include "transfer/dicom_file_scan.h"
#include "transfer/scu_association.h"

namespace strata {

struct StoreAttempt {
  enum class Outcome {
    kResponse,      // the peer answered; STATUS is its C-STORE response status
    kNoContext,     // the peer did not accept this SOP class / syntax (association fine)
    kFileError,     // the file could not be read or changed since the scan (association fine)
    kNetworkError,  // the association failed mid-operation and is now marked broken
  };
  Outcome outcome = Outcome::kResponse;
  uint16_t status = 0;
  std::string message;  // error comment of the response, or what went wrong
};

StoreAttempt StoreFile(ScuAssociation& assoc, const DicomFileInfo& file);

}  // namespace strata
