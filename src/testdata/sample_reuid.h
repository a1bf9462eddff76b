// Re-identifying real sample DICOM files (e.g. the ones Debian ships with python3-pydicom,
// octave-dicom, libgdcm) so that they can all live in one archive: many samples share a SOP
// Instance UID, or study and series UIDs, and some UIDs are invalid.
//
// Contract: for every input file that is DICOM (Part 10, or a bare dataset starting with a
// group 0002/0008 element), has a SOP Class UID and has Pixel Data, one copy is written with
// new Study, Series and SOP Instance UIDs (and the meta header's Media Storage SOP Instance
// UID); every other element, the transfer syntax and the pixel data (native or encapsulated,
// compressed) are kept as they were. The new UIDs are a deterministic function of the seed and
// the file's path relative to the input directory it was found under, so re-running gives the
// same UIDs and bytes. Files are processed in sorted path order. Other files are skipped and
// counted by reason; nothing is written for them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "testdata/study_generator.h"
#include "util/status.h"

namespace strata::testdata {

struct ReUidOptions {
  std::vector<std::string> inputs;  // files and/or directories (searched recursively)
  std::string out_dir;
  uint64_t seed = 1;
  std::string uid_root;  // empty = kDefaultUidRoot
  Layout layout = Layout::kHierarchical;
  // false: each file becomes its own study and series.
  // true: files that shared a Study (Series) Instance UID share the new one.
  bool keep_grouping = false;
  // Also write, for files with native (uncompressed, not deflated) pixel data, an Implicit VR
  // Little Endian and/or a Deflated Explicit VR Little Endian copy. Each variant is a separate
  // instance (its own SOP Instance UID) in the same new series.
  bool implicit_variant = false;
  bool deflated_variant = false;
};

struct ReUidEntry {
  std::string source, output;
  std::string transfer_syntax, sop_class;
  std::string study_uid, series_uid, sop_instance_uid;
  std::string original_sop_instance_uid;
  bool variant = false;  // an extra Implicit/Deflated copy
  uint64_t bytes = 0;
};

struct ReUidReport {
  uint64_t scanned = 0;  // regular files looked at
  uint64_t written = 0;  // files written, variants included
  uint64_t variants = 0;
  uint64_t skipped_not_dicom = 0;     // no DICOM signature, or DCMTK cannot parse it
  uint64_t skipped_no_sop_class = 0;  // parses but has no SOP Class UID
  uint64_t skipped_no_pixel_data = 0; // has a SOP class but no (or empty) Pixel Data
  uint64_t bytes = 0;
  std::vector<ReUidEntry> entries;
  std::vector<std::pair<std::string, std::string>> skipped;  // path, reason
};

Result<ReUidReport> ReUidSamples(const ReUidOptions& options);

}  // namespace strata::testdata
