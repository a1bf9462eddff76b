// DICOM Part 10 files in memory <-> DCMTK objects, for every syntax in syntax_table.h
// including the HTJ2K ones DCMTK 3.6.7 does not know: their data sets are parsed and written
// through a stand-in syntax with the same encoding, and the meta header carries the real UID.
#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <memory>
#include <string>
#include <string_view>

#include "codec/syntax_table.h"
#include "util/status.h"

namespace strata::codec {

struct Part10File {
  std::unique_ptr<DcmFileFormat> file;
  std::string transfer_syntax;        // (0002,0010) without padding
  const SyntaxInfo* syntax = nullptr;  // nullptr when the syntax is not in the table
};

// Only the Transfer Syntax UID from the file meta information; kInvalidArgument when `bytes`
// is not a Part 10 file (no 128-byte preamble + "DICM", or no (0002,0010)).
Result<std::string> PeekTransferSyntax(std::string_view bytes);

// Where the data set of a Part 10 file starts (the first byte after the file meta
// information) and its Transfer Syntax UID, without parsing the data set. Same errors as
// PeekTransferSyntax.
struct Part10Layout {
  std::string transfer_syntax;  // (0002,0010) without padding
  size_t dataset_offset = 0;
};
Result<Part10Layout> LocateDataset(std::string_view bytes);

// Parses a whole Part 10 file. kInvalidArgument for bytes that are not one, or whose data set
// is encoded in a syntax outside the table (nothing here can parse it).
Result<Part10File> ReadPart10(std::string_view bytes);

// Serializes `file` in `target`: the meta header is brought up to date (Transfer Syntax UID,
// Media Storage SOP Class/Instance from the data set, this implementation's class UID and
// version name, group length); every other attribute is written as it is in the objects.
// The Pixel Data must already be in a representation `target` can carry.
Result<std::string> WritePart10(DcmFileFormat& file, const SyntaxInfo& target);

}  // namespace strata::codec
