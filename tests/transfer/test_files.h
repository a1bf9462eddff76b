// Small DICOM files for the transfer tests, written with DCMTK.
#pragma once

#include <string>

namespace strata::testing {

struct TestFileSpec {
  std::string sop_class = "1.2.840.10008.5.1.4.1.1.2";  // CT Image Storage
  std::string sop_uid;
  std::string syntax = "1.2.840.10008.1.2.1";  // Explicit VR LE; an encapsulated syntax gets a fake fragment
  bool meta_header = true;                     // false: a bare data set (no preamble, no meta)
};

// Writes the file at PATH (parent directories must exist); aborts the test on failure.
void WriteTestFile(const std::string& path, const TestFileSpec& spec);

// A fresh empty directory under the test temp dir.
std::string MakeTempDir(const std::string& name);

}  // namespace strata::testing
