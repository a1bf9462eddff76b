// Finding what to send: walks files and directories, keeps the DICOM files with what a
// C-STORE needs to know about each (SOP class, SOP instance, transfer syntax, size) and
// counts the rest. Only the header is read (parsing stops before the study attributes), so a
// scan costs one small read per file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/status.h"

namespace strata {

struct DicomFileInfo {
  std::string path;
  std::string sop_class_uid;
  std::string sop_instance_uid;
  std::string transfer_syntax;  // of the data set as stored in the file
  uint64_t size = 0;            // file size in bytes
};

struct SkippedFile {
  std::string path;
  std::string reason;  // "not DICOM: ...", "DICOMDIR", "unreadable: ..."
};

struct ScanResult {
  std::vector<DicomFileInfo> files;  // sorted by path, each path once
  std::vector<SkippedFile> skipped;
  uint64_t bytes = 0;                // sum of files[].size
};

// Reads the header of one file. InvalidArgument when it is not a storable DICOM file (not
// DICOM, no or malformed SOP Class / SOP Instance UID, a DICOMDIR), IOError when unreadable.
Result<DicomFileInfo> ProbeDicomFile(const std::string& path);

// Walks PATHS (files and directories, recursively; directory symlinks are not followed).
// NotFound if a named path does not exist; files that fail ProbeDicomFile are skipped.
Result<ScanResult> ScanForDicomFiles(const std::vector<std::string>& paths);

}  // namespace strata
