// ScanInstanceFile: what ingest (Archive::StoreFile) learns from a Part 10 file before it is
// catalogued, shared with rebuild-catalog so that a rebuilt row is read exactly as the stored
// one was. Thread-safe; reads through ENV only.
#pragma once

#include <string>

#include "dicom/dataset_scan.h"
#include "model/records.h"
#include "util/env.h"
#include "util/status.h"

namespace strata {

// Scans the file at PATH (completeness, nesting, checksums of file and data set), lets DCMTK
// parse the bytes before Pixel Data into R, validates every identity UID as it is in the file
// and checks that the pixel encoding fits the transfer syntax. Fills R's size, checksum and
// dataset_checksum (not received_ms, not the location). InvalidArgument for a file that must
// be refused; IOError etc. for read failures.
[[nodiscard]] Status ScanInstanceFile(Env* env, const std::string& path, DatasetScan* scan, InstanceRecord* r);

}  // namespace strata
