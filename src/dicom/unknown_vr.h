// UN elements whose tag the data dictionary knows, re-read with their dictionary VR (PS3.5
// 6.2.2: a UN value is the value as Implicit VR Little Endian would encode it). Senders that
// lost the VR on the way (a gateway converting from Implicit VR, say) otherwise leave names
// and UIDs as opaque bytes. Used where Strata reads a data set for its own purposes (catalog,
// /metadata); the stored file is never rewritten.
#pragma once

class DcmItem;

namespace strata {

// Converts, in ITEM and the items of its sequences, every defined-length UN element whose
// tag has a dictionary VR that is a string VR or US/SS/UL/SL/FL/FD. Returns how many were
// converted. An element whose bytes do not fit its VR (a US of 3 bytes) stays UN.
int ResolveUnknownVrs(DcmItem* item);

}  // namespace strata
