// Association negotiation: checks the AE titles, accepts the presentation contexts Strata
// serves (every storage class with every syntax it can store as received; Q/R and Verification
// with the three uncompressed syntaxes; the SCP role for C-GET's storage contexts), takes an
// Admission slot, and acknowledges or rejects the association.
#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>

#include "net/dimse/admission.h"
#include "net/dimse/dimse_service.h"

namespace strata {

// True: acknowledged. False: rejected (or the acknowledgement failed); ST->status says why.
// ADMITTED is set when an Admission slot was taken (the caller releases it, with QUERY_ONLY).
bool Negotiate(T_ASC_Association* assoc, const DimseOptions& opt, Admission* admission, AssocStats* st,
               bool* admitted, bool* query_only);

}  // namespace strata
