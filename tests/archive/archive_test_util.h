// Helpers of the archive tests: small DICOM instances and a scratch archive directory.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "archive/archive.h"

namespace strata::testing {

// Part 10 bytes of a small image with these UIDs (SEED varies the pixels).
std::string MakeInstance(const std::string& study, const std::string& series, const std::string& sop, int seed);
// Relative paths of the regular files under DIR (recursively), sorted.
std::vector<std::string> ListFiles(const std::string& dir);

}  // namespace strata::testing
