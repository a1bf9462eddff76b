// The C-STORE request Strata sends, built in one place: by the SCU (`strata send`,
// transfer/c_store_scu.cc) and by the server's C-GET/C-MOVE sub-operations
// (net/dimse/retrieve_service.cc). A data set always follows; the priority is MEDIUM.
#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>

#include <string>

namespace strata {

// For a C-MOVE sub-operation: the AE title that asked for the move and the Message ID of its
// C-MOVE request (PS3.7 9.3.1.1, Move Originator AE Title / Message ID).
struct MoveOriginator {
  std::string aet;  // empty = not a C-MOVE sub-operation; the attributes are then left out
  DIC_US message_id = 0;
};

// A C-STORE-RQ for SOP_CLASS / SOP_INSTANCE with the association's next message ID (taken
// from, and advanced on, ASSOC; not thread-safe per association). UIDs longer than 64
// characters are cut to the field, which DCMTK then refuses to encode: callers pass the
// catalog's or the file's validated UIDs.
T_DIMSE_C_StoreRQ MakeStoreRequest(T_ASC_Association* assoc, const std::string& sop_class,
                                   const std::string& sop_instance, const MoveOriginator& origin = {});

}  // namespace strata
