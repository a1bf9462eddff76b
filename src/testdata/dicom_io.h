// Writing DICOM Part 10 files and buffers with DCMTK for generated test data.
#pragma once

#include <string>

#include "util/status.h"

class DcmFileFormat;

namespace strata::testdata {

// Transfer syntaxes the generators can write (all native, no pixel codec needed).
enum class OutputSyntax {
  kExplicitLE,  // 1.2.840.10008.1.2.1 (default)
  kImplicitLE,  // 1.2.840.10008.1.2
  kDeflatedLE,  // 1.2.840.10008.1.2.1.99
  kExplicitBE,  // 1.2.840.10008.1.2.2 (retired, but real files use it)
};
// "explicit", "implicit", "deflated", "big" (also the UIDs) -> syntax.
Result<OutputSyntax> ParseOutputSyntax(const std::string& name);
const char* OutputSyntaxUid(OutputSyntax s);

// Writes FF as a Part 10 file at PATH in SYNTAX with a freshly built meta header. Writes to a
// temporary file in the same directory and renames it, so PATH never holds a partial file.
// Returns the size of the written file.
Result<uint64_t> SavePart10(DcmFileFormat& ff, const std::string& path, OutputSyntax syntax);
// The same bytes SavePart10 would write, in memory.
Result<std::string> EncodePart10(DcmFileFormat& ff, OutputSyntax syntax);

// Status from a DCMTK condition (OK for good conditions).
Status FromCondition(bool good, const char* text, const std::string& context);

}  // namespace strata::testdata
