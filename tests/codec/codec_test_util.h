// Helpers shared by the codec tests: reading files, comparing pixel data independently of
// layout, listing the attributes a transcode must keep.
#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "codec/image_info.h"
#include "util/status.h"

namespace strata::codec::testing {

inline constexpr const char* kPydicomDir = "/usr/lib/python3/dist-packages/pydicom/data/test_files";

std::string ReadFileBytes(const std::string& path);
bool WriteFileBytes(const std::string& path, std::string_view bytes);
// A fresh directory under the test temp dir.
std::string MakeTempDir(const std::string& name);

// Every stored sample of a native Part 10 file as raw bits_allocated-wide values, in
// frame / row / column / sample order whatever the planar configuration, plus the layout.
struct Samples {
  ImageInfo info;
  std::vector<uint32_t> raw;
};
Result<Samples> NativeSamples(std::string_view part10);
// NativeSamples of whatever `part10` is, decoding it to Explicit VR LE first if needed.
Result<Samples> DecodedSamples(std::string_view part10);

// Top-level attributes printed one per tag (for comparing what a transcode kept).
std::map<uint32_t, std::string> PrintedAttributes(DcmDataset& dataset);
Result<std::map<uint32_t, std::string>> PrintedAttributes(std::string_view part10);

// The fragments of the encapsulated Pixel Data of `part10`: item 0 is the Basic Offset Table.
Result<std::vector<std::string>> PixelItems(std::string_view part10);

// A string attribute of the data set of `part10` ("" if absent).
std::string GetString(std::string_view part10, uint16_t group, uint16_t element);
// The meta header's Transfer Syntax UID.
std::string MetaSyntax(std::string_view part10);

// Runs a shell command; returns its exit status (-1 if it could not run).
int RunCommand(const std::string& command);
bool HaveProgram(const std::string& name);

}  // namespace strata::codec::testing
