// C-GET in the Study Root information model over an open association: sends the request and
// serves the C-STORE sub-operations the server sends back on the same association, streaming
// each data set straight into a Part 10 file (no parsing; the meta header comes from the
// request and the accepted context), written as PATH.part and renamed to PATH when complete.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "transfer/c_find_scu.h"
#include "transfer/scu_association.h"

namespace strata {

struct GetSink {
  // Where to write instance SOP_UID (of SOP_CLASS); an error refuses the sub-operation.
  std::function<Result<std::string>(const std::string& sop_class, const std::string& sop_uid)> path_for;
  // Called once the file is complete at PATH.
  std::function<void(const std::string& sop_uid, const std::string& path, uint64_t bytes)> stored;
};

struct GetOutcome {
  uint16_t status = 0;                 // final C-GET response status
  int completed = 0, failed = 0, warning = 0;  // as the server counted (-1 when not sent)
  std::vector<std::string> failed_uids;        // Failed SOP Instance UID List, if sent
  int refused = 0;                     // sub-operations we refused (SINK said no, disk error)
  std::string error_comment;
};

// Runs one C-GET at LEVEL with IDENTIFIER. Unavailable (association marked broken) when the
// association fails; otherwise the outcome, whatever the status.
Result<GetOutcome> GetStudyRoot(ScuAssociation& assoc, const std::string& level, const DimseKeys& identifier,
                                const GetSink& sink);

}  // namespace strata
