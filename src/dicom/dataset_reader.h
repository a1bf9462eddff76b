// Reads what the catalog needs out of a DICOM Part 10 file (or its bytes) with DCMTK,
// without loading large elements such as Pixel Data into memory, and validates it:
// a file that is not DICOM, lacks a UID, or carries a malformed one is rejected here.
#pragma once

#include <string>
#include <string_view>

#include "model/records.h"
#include "util/status.h"

namespace strata {

// Fills the attribute fields of an InstanceRecord from the file at PATH (size/checksum/
// location are left for the caller). InvalidArgument for non-DICOM or invalid UIDs.
Status ReadInstanceAttributes(const std::string& path, InstanceRecord* out);
// The same from bytes in memory.
Status ReadInstanceAttributesFromBuffer(std::string_view bytes, InstanceRecord* out);

}  // namespace strata
