// DatasetScan: one pass over a Part 10 file, element by element to the end of the stream,
// without recursion and in bounded memory (the file is read in chunks; large values are
// skipped, or hashed as they stream by). It proves what DCMTK's parser does not check when
// it stops at Pixel Data: every length is consistent and fits in the stream, undefined-length
// sequences and items are delimited, the stream ends exactly at an element boundary, and
// sequences nest no deeper than a bound (so DCMTK's recursive parser, which is only ever
// handed the bytes before Pixel Data, cannot overflow a thread's stack).
// Transfer syntaxes: Implicit VR LE, Explicit VR LE, Explicit VR BE, Deflated Explicit VR LE
// (inflated as it streams). Everything else is encoded as Explicit VR LE (PS3.5 §A.4).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "util/env.h"
#include "util/status.h"

namespace strata {

struct DatasetScanOptions {
  int max_sequence_depth = 32;  // real data rarely nests deeper than 5
};

// What the scan learned about Pixel Data (7FE0,0010) at the top level of the data set.
struct PixelDataInfo {
  enum class Kind { kAbsent, kNative, kEncapsulated };
  Kind kind = Kind::kAbsent;
  uint64_t fragments = 0;        // kEncapsulated: item fragments after the offset table
  std::string first_fragment;    // kEncapsulated: first bytes (up to 1024) of the first non-empty fragment
  uint64_t first_fragment_length = 0;
};

struct DatasetScan {
  std::string transfer_syntax;  // from the meta group (0002,0010), padding trimmed
  uint64_t file_size = 0;
  uint64_t dataset_offset = 0;  // first byte after the meta group
  // First byte of the top-level Pixel Data element's tag in the file, or file_size if there
  // is none. For a deflated data set this is file_size: the parser needs the whole stream.
  uint64_t pixel_data_offset = 0;
  std::string file_checksum;     // XXH3-64 hex of every byte of the file
  std::string dataset_checksum;  // XXH3-64 hex of the bytes after the meta group (as stored)
  int max_depth_seen = 0;
  PixelDataInfo pixel;
  // Raw values (padding included) of the top-level SOP Class, SOP Instance, Study and Series
  // Instance UIDs, keyed by tag (group << 16 | element).
  std::map<uint32_t, std::string> identity_uids;
};

// Scans the file at PATH through ENV. InvalidArgument (with the offset and the reason) for a
// file that is not a complete, well-formed Part 10 stream; IOError etc. for read failures.
Result<DatasetScan> ScanPart10(Env* env, const std::string& path, const DatasetScanOptions& options = {});

}  // namespace strata
