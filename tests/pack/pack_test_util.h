// Helpers shared by the pack tests: fake Part 10 files, in-memory packs, temp dirs, running
// external tools, and hand-built archives that PackWriter would refuse to write.
#pragma once

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "pack/pack_format.h"
#include "pack/pack_reader.h"
#include "pack/pack_writer.h"
#include "pack/zip_format.h"
#include "util/checksum.h"
#include "util/file_util.h"

namespace strata::testing {

inline constexpr const char* kExplicitLE = "1.2.840.10008.1.2.1";
inline constexpr const char* kCtImage = "1.2.840.10008.5.1.4.1.1.2";

// A "DICOM Part 10 file": 128-byte preamble, DICM, then PAYLOAD (the pack never parses more).
inline std::string FakeDicom(std::string_view payload) {
  std::string s(128, '\0');
  s += "DICM";
  s.append(payload);
  return s;
}

inline std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xFF);
  return s;
}

inline PackEntryInfo Info(const std::string& series, const std::string& sop,
                          const std::string& ts = kExplicitLE) {
  PackEntryInfo i;
  i.series_instance_uid = series;
  i.sop_instance_uid = sop;
  i.sop_class_uid = kCtImage;
  i.transfer_syntax = ts;
  return i;
}

struct TestEntry {
  PackEntryInfo info;
  std::string data;
};

// A small study: 2 series, binary payloads (every byte value, NULs, random, 1 MiB).
inline std::vector<TestEntry> SampleEntries() {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  std::vector<TestEntry> v;
  v.push_back({Info("1.2.3.4", "1.2.3.4.1"), FakeDicom(all_bytes)});
  v.push_back({Info("1.2.3.4", "1.2.3.4.2"), FakeDicom(std::string(1000, '\0'))});
  v.push_back({Info("1.2.3.5", "1.2.3.5.1"), FakeDicom(RandomBytes(1 << 20, 7))});
  v.push_back({Info("1.2.3.5", "1.2.3.5.2", "1.2.840.10008.1.2.4.90"), FakeDicom("PK\x03\x04 tricky")});
  v.push_back({Info("1.2.3.5", "1.2.3.5.3"), FakeDicom(RandomBytes(4097, 9))});
  return v;
}

inline nlohmann::json SampleStudy() {
  return nlohmann::json{{"StudyInstanceUID", "1.2.3"},
                        {"PatientID", "P-001"},
                        {"PatientName", "M\u00fcller^J\u00fcrgen"},
                        {"StudyDate", "20240305"}};
}

// Writes ENTRIES into a pack held in memory.
inline Result<PackSummary> WritePack(const std::vector<TestEntry>& entries, std::string* out,
                                     PackWriterOptions options = {},
                                     const nlohmann::json& study = SampleStudy()) {
  out->clear();
  PackWriter w([out](std::string_view b) { out->append(b); return Status::OK(); }, options);
  for (const auto& e : entries) {
    auto r = w.AddEntry(e.info, e.data);
    if (!r.ok()) return r.status();
  }
  return w.Finish(study);
}

// A PackSource over a string that must outlive it.
inline PackSource MemorySource(const std::string* bytes) {
  return [bytes](uint64_t offset, uint64_t length) -> Result<std::string> {
    if (offset > bytes->size() || length > bytes->size() - offset)
      return Status::InvalidArgument("read beyond the end");
    return bytes->substr(offset, length);
  };
}

inline Result<PackReader> OpenMemory(const std::string* bytes, std::string label = "mem") {
  return PackReader::Open(MemorySource(bytes), bytes->size(), std::move(label));
}

// A fresh directory under the test temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "strata-pack-XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs a shell command; returns its exit code and puts stdout+stderr in OUTPUT.
inline int RunCommand(const std::string& command, std::string* output) {
  output->clear();
  FILE* f = popen((command + " 2>&1").c_str(), "r");
  if (!f) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) output->append(buf, n);
  int status = pclose(f);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

inline std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// A ZIP member for hand-built archives.
struct RawMember {
  std::string name;
  std::string data;
  uint16_t method = 0;  // patched into the headers as is (the data stays stored)
};

// Builds an archive member by member, laid out exactly as PackWriter lays it out, so tests can
// make packs with bad names, missing or extra members, or a tampered manifest.
class CraftedPack {
 public:
  void Add(std::string name, std::string data, uint16_t method = 0) {
    members_.push_back({std::move(name), std::move(data), method});
  }
  // Manifest entries describing the members added so far, as PackWriter would record them.
  std::vector<PackEntry> ManifestEntries() const {
    std::vector<PackEntry> out;
    uint64_t offset = 0;
    for (const RawMember& m : members_) {
      PackEntry e;
      e.name = m.name;
      size_t slash = m.name.find('/');
      e.series_instance_uid = m.name.substr(0, slash == std::string::npos ? 0 : slash);
      e.sop_instance_uid = slash == std::string::npos || m.name.size() < slash + 5
                               ? m.name
                               : m.name.substr(slash + 1, m.name.size() - slash - 5);
      e.sop_class_uid = kCtImage;
      e.transfer_syntax = e.original_transfer_syntax = kExplicitLE;
      e.length = e.original_size = m.data.size();
      e.crc32 = Crc32(m.data);
      e.xxh3 = e.original_xxh3 = Xxh3(m.data);
      e.offset = offset + zip::LocalHeaderSize(m.name, false);
      offset = e.offset + e.length;
      out.push_back(e);
    }
    return out;
  }
  // The archive: the members, then MANIFEST as strata-manifest.json (unless empty and
  // WITH_MANIFEST is false), the central directory and the end records.
  std::string Build(const std::string& manifest, bool with_manifest = true) const {
    std::vector<RawMember> all = members_;
    if (with_manifest) all.push_back({std::string(kPackManifestName), manifest, 0});
    std::string out;
    std::vector<zip::StoredFile> files;
    for (const RawMember& m : all) {
      zip::StoredFile f;
      f.name = m.name;
      f.crc32 = Crc32(m.data);
      f.size = m.data.size();
      f.local_header_offset = out.size();
      std::string header = zip::EncodeLocalHeader(f);
      header[8] = static_cast<char>(m.method & 0xFF);
      header[9] = static_cast<char>(m.method >> 8);
      out += header;
      out += m.data;
      files.push_back(f);
    }
    zip::EndRecordsInfo end;
    end.cd_offset = out.size();
    end.entries = files.size();
    for (size_t i = 0; i < files.size(); ++i) {
      std::string cd = zip::EncodeCentralHeader(files[i]);
      cd[10] = static_cast<char>(all[i].method & 0xFF);
      cd[11] = static_cast<char>(all[i].method >> 8);
      out += cd;
    }
    end.cd_size = out.size() - end.cd_offset;
    out += zip::EncodeEndRecords(end);
    return out;
  }
  // Build() with the manifest EncodeManifest makes of ENTRIES.
  std::string BuildWith(const std::vector<PackEntry>& entries) const {
    auto m = EncodeManifest(nlohmann::json{{"StudyInstanceUID", "1.2.3"}}, entries);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return Build(m.ok() ? *m : std::string());
  }

 private:
  std::vector<RawMember> members_;
};

}  // namespace strata::testing
