// SendStoreRaw: one C-STORE sub-operation (or SCU store) whose data set goes on the wire as
// the stored bytes are. DIMSE_storeUser needs a DcmDataset: the stored file was parsed into
// one (every element looked up, Pixel Data copied) only for DCMTK to serialize it again (a
// second copy), all on the association's thread while the peer waited. Here the command is
// encoded by hand (PS3.7 9.3.1.1, Implicit VR Little Endian with its group length) and the
// data set bytes are cut into P-DATA fragments of the association's PDV size.
//
// The caller guarantees that DATASET (the bytes after the Part 10 meta group) is complete,
// verified (archive checksums, dicom/dataset_scan) and encoded in the transfer syntax of the
// presentation context PC; the bytes are not looked at here. Not thread-safe per association.
#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>

#include <string>
#include <string_view>

#include "util/status.h"

namespace strata {

// The C-STORE-RQ command set of REQ, encoded (Implicit VR Little Endian, group length first).
std::string EncodeStoreCommand(const T_DIMSE_C_StoreRQ& req);

// Sends REQ and DATASET on PC, then waits for the C-STORE-RSP (TIMEOUT_S seconds; 0 = no
// limit) and returns it in *RSP. kInvalidArgument for a data set of odd or zero length; a
// failure of the association is kIOError (the association is then unusable).
[[nodiscard]] Status SendStoreRaw(T_ASC_Association* assoc, T_ASC_PresentationContextID pc,
                                  const T_DIMSE_C_StoreRQ& req, std::string_view dataset, int timeout_s,
                                  T_DIMSE_C_StoreRSP* rsp);

}  // namespace strata
