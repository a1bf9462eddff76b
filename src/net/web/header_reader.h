// Reading an instance's header (every attribute before Pixel Data) without reading its pixel
// data: a ranged read of the first bytes of the hot file or pack entry, a walk over the
// element structure to find where Pixel Data (or anything after it) starts, and DCMTK parsing
// of just that prefix. A header longer than the first read is read again with a larger range.
// Files whose data set is deflated or big endian are read whole (their layout cannot be
// walked cheaply).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "archive/archive.h"
#include "util/status.h"

class DcmFileFormat;

namespace strata::web {

struct MetaInfo {
  std::string transfer_syntax, sop_class_uid, sop_instance_uid;
  size_t dataset_offset = 0;  // first byte after the group 0002 elements
};
// The Part 10 meta information of BYTES (a whole file or its start). InvalidArgument when it
// is not a Part 10 file; NotFound when BYTES ends inside the meta information.
Result<MetaInfo> ParseMetaInfo(std::string_view bytes);

struct HeaderExtent {
  enum class Kind { kFound, kNeedMore, kUnwalkable } kind = Kind::kNeedMore;
  size_t end = 0;  // kFound: the header is BYTES[0, end)
};
// Where the header of the Part 10 file starting with BYTES ends (at the first top-level element
// whose tag is >= (7FE0,0000), or at the end of the data set when BYTES is the whole file:
// pass WHOLE_FILE = true then).
Result<HeaderExtent> FindHeaderExtent(std::string_view bytes, bool whole_file);

// The header of RECORD's instance as a parsed DCMTK file (no Pixel Data element).
Result<std::unique_ptr<DcmFileFormat>> ReadInstanceHeader(Archive* archive, const InstanceRecord& record);

// Archive::ReadServed of RECORD: as served, with its study's corrections (Read itself follows
// an instance the converter moved to a pack after RECORD was listed). ReadInstanceHeader does
// the same for its partial reads and applies the corrections to the header it parsed.
Result<std::string> ReadInstance(Archive* archive, const InstanceRecord& record);

}  // namespace strata::web
