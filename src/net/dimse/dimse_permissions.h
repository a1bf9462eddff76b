// DimsePermissions: which DIMSE services a calling AE may use (setting dimse.ae_permissions:
// AE=store|find|retrieve, "*" for every AE not listed) and where it may send with C-MOVE
// (dimse.move_allowed: AE=DEST1|DEST2, "*" likewise). An empty setting allows everything
// (the archive as before); once set, an AE that is neither listed nor covered by "*" may use
// nothing but C-ECHO. retrieve covers C-GET and C-MOVE; storage commitment needs store.
// Checked for every command before its service runs (association.cc); a refused command gets
// status 0124H (Refused: Not Authorized) with an ErrorComment saying what was refused.
// AE titles are spoofable: bind them to client certificates (dimse.tls_client_aets) where it
// matters. Pure functions, thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>

#include "dicom/dimse_status_codes.h"  // kStatusNotAuthorized
#include "net/dimse/dimse_options.h"

namespace strata {

enum class DimseService { kStore, kFind, kRetrieve };

// "" when CALLING may use SERVICE, else the reason (fit for an ErrorComment, <= 64 chars).
std::string ServiceRefusal(const DimseOptions& opt, const std::string& calling, DimseService service);
// "" when CALLING may C-MOVE to DESTINATION, else the reason.
std::string MoveDestinationRefusal(const DimseOptions& opt, const std::string& calling, const std::string& destination);

// Parses dimse.ae_permissions / dimse.move_allowed values ("A|B|C") into OUT; CHECK_SERVICES
// refuses words other than store, find, retrieve. "" = ok, else why.
std::string ParseAePermissions(const std::map<std::string, std::string>& text, bool check_services,
                               std::map<std::string, std::vector<std::string>>* out);

// Answers MSG (a C-STORE/C-FIND/C-GET/C-MOVE request whose data set has not been read yet)
// with 0124H and COMMENT, after reading and dropping its data set. Bad only when the
// association broke.
OFCondition RefuseCommand(T_ASC_Association* assoc, T_ASC_PresentationContextID pc, T_DIMSE_Message& msg,
                          const std::string& comment, int timeout_s);

}  // namespace strata
