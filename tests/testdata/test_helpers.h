// Helpers shared by the testdata tests: temp dirs, file listing, DCMTK accessors.
#pragma once

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcxfer.h>

namespace strata::testdata::testing {

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "strata-testdata-XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    if (p == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return (fs::path(path_) / rel).string(); }

 private:
  std::string path_;
};

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
}

// Regular files under DIR, relative path -> contents.
inline std::map<std::string, std::string> ReadTree(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out[fs::relative(e.path(), dir).generic_string()] = ReadAll(e.path().string());
  }
  return out;
}

inline std::vector<std::string> ListFiles(const std::string& dir, const std::string& ext = ".dcm") {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ext) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline std::unique_ptr<DcmFileFormat> Load(const std::string& path) {
  auto ff = std::make_unique<DcmFileFormat>();
  OFCondition c = ff->loadFile(path.c_str());
  if (c.bad()) {
    ADD_FAILURE() << "DCMTK cannot load " << path << ": " << c.text();
    return nullptr;
  }
  return ff;
}

inline std::string Str(DcmItem* item, const DcmTagKey& tag) {
  OFString v;
  if (item->findAndGetOFStringArray(tag, v).bad()) return {};
  return v.c_str();
}

inline bool Has(DcmItem* item, const DcmTagKey& tag) { return item->tagExists(tag); }

inline std::string MetaSyntax(DcmFileFormat& ff) { return Str(ff.getMetaInfo(), DCM_TransferSyntaxUID); }

// Pixel data as stored: the native value bytes (host byte order), or the encapsulated
// fragments joined with a separator that records their boundaries.
inline std::string PixelBytes(DcmDataset* ds) {
  DcmElement* e = nullptr;
  if (ds->findAndGetElement(DCM_PixelData, e).bad() || e == nullptr) return {};
  auto* pd = static_cast<DcmPixelData*>(e);
  const E_TransferSyntax xfer = ds->getOriginalXfer();
  if (DcmXfer(xfer).isEncapsulated()) {
    DcmPixelSequence* seq = nullptr;
    if (pd->getEncapsulatedRepresentation(xfer, nullptr, seq).bad() || seq == nullptr) return {};
    std::string out;
    for (unsigned long i = 0; i < seq->card(); ++i) {
      DcmPixelItem* item = nullptr;
      if (seq->getItem(item, i).bad()) return {};
      Uint8* p = nullptr;
      item->getUint8Array(p);
      out += "<frag " + std::to_string(item->getLength()) + ">";
      if (p) out.append(reinterpret_cast<const char*>(p), item->getLength());
    }
    return out;
  }
  Uint8* p = nullptr;
  if (pd->getUint8Array(p).bad() || p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p), pd->getLength());
}

// Runs a shell command; returns its exit status and (optionally) its standard output.
inline int RunCommand(const std::string& cmd, std::string* out = nullptr) {
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return -1;
  std::string buf;
  char chunk[4096];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, p)) > 0) buf.append(chunk, n);
  int st = ::pclose(p);
  if (out) *out = buf;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

}  // namespace strata::testdata::testing
