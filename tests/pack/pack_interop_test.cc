// Packs open with standard tools: Info-ZIP `unzip -t` verifies them and Python's zipfile
// lists, tests and extracts them, and agrees with the manifest on where each entry's data is.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <sstream>

#include "pack_test_util.h"

namespace strata::testing {
namespace {

constexpr const char* kPython = "/usr/bin/python3";

// Python script: tests the archive, prints "name data_offset size crc" per member (the data
// offset computed from the local header, as a ZIP reader finds it), and extracts to argv[2].
constexpr const char* kZipfileScript = R"PY(
import struct, sys, zipfile
path, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(path) as z:
    bad = z.testzip()
    if bad is not None:
        print("BAD", bad); sys.exit(2)
    with open(path, "rb") as f:
        for info in z.infolist():
            if info.compress_type != zipfile.ZIP_STORED:
                print("NOT STORED", info.filename); sys.exit(3)
            f.seek(info.header_offset)
            h = f.read(30)
            n, m = struct.unpack("<HH", h[26:30])
            print(info.filename, info.header_offset + 30 + n + m, info.file_size, "%08x" % info.CRC)
    z.extractall(out)
)PY";

std::string WriteScript(const TempDir& dir) {
  std::string path = dir.File("check.py");
  EXPECT_TRUE(WriteFileAtomic(path, kZipfileScript).ok());
  return path;
}

void CheckWithTools(const std::string& pack_path, const PackSummary& summary,
                    const std::vector<TestEntry>& entries) {
  TempDir work;
  std::string out;
  // unzip -t: every member's CRC checked.
  int rc = RunCommand("unzip -t " + ShellQuote(pack_path), &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("No errors detected"), std::string::npos) << out;
  // unzip -l lists every entry and the manifest.
  rc = RunCommand("unzip -l " + ShellQuote(pack_path), &out);
  EXPECT_EQ(rc, 0) << out;
  for (const PackEntry& e : summary.entries) EXPECT_NE(out.find(e.name), std::string::npos) << e.name;
  EXPECT_NE(out.find(std::string(kPackManifestName)), std::string::npos);

  // Python zipfile: test, list with data offsets, extract.
  std::string script = WriteScript(work);
  std::string extract_dir = work.File("x");
  rc = RunCommand(std::string(kPython) + " " + ShellQuote(script) + " " + ShellQuote(pack_path) + " " +
               ShellQuote(extract_dir),
           &out);
  ASSERT_EQ(rc, 0) << out;
  std::istringstream lines(out);
  std::vector<std::string> names;
  std::string name, crc;
  uint64_t offset = 0, size = 0;
  size_t i = 0;
  while (lines >> name >> offset >> size >> crc) {
    names.push_back(name);
    if (i < summary.entries.size()) {
      const PackEntry& e = summary.entries[i];
      EXPECT_EQ(name, e.name);
      EXPECT_EQ(offset, e.offset) << name;  // our recorded data offset is where ZIP readers find it
      EXPECT_EQ(size, e.length) << name;
      EXPECT_EQ(crc, HexU32(e.crc32)) << name;
    } else {
      EXPECT_EQ(name, kPackManifestName);
      EXPECT_EQ(offset, summary.manifest_offset);
      EXPECT_EQ(size, summary.manifest_length);
    }
    ++i;
  }
  EXPECT_EQ(names.size(), summary.entries.size() + 1) << out;
  for (size_t k = 0; k < entries.size() && k < summary.entries.size(); ++k) {
    auto data = ReadFile(extract_dir + "/" + summary.entries[k].name);
    ASSERT_TRUE(data.ok()) << data.status().ToString();
    EXPECT_EQ(*data, entries[k].data) << summary.entries[k].name;
  }
  auto manifest = ReadFile(extract_dir + "/" + std::string(kPackManifestName));
  ASSERT_TRUE(manifest.ok());
  auto parsed = DecodeManifest(*manifest);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->entries, summary.entries);
}

TEST(PackInterop, UnzipAndPythonReadAPack) {
  TempDir dir;
  for (bool zip64 : {false, true}) {
    auto entries = SampleEntries();
    std::string pack;
    PackWriterOptions o;
    o.force_zip64 = zip64;
    o.modified_time = 1709642096;
    auto summary = WritePack(entries, &pack, o);
    ASSERT_TRUE(summary.ok());
    std::string path = dir.File(zip64 ? "zip64.zip" : "plain.zip");
    ASSERT_TRUE(WriteFileAtomic(path, pack).ok());
    SCOPED_TRACE(path);
    CheckWithTools(path, *summary, entries);
    std::string out;
    ASSERT_EQ(RunCommand("unzip -Z -v " + ShellQuote(path), &out), 0) << out;
    EXPECT_NE(out.find("2024 Mar 5"), std::string::npos);
  }
}

TEST(PackInterop, ToolsNoticeADamagedEntry) {
  // The same checks fail on a damaged pack, so their success above means something.
  TempDir dir;
  auto entries = SampleEntries();
  std::string pack;
  auto summary = WritePack(entries, &pack);
  ASSERT_TRUE(summary.ok());
  const PackEntry& e = summary->entries[1];
  pack[e.offset + 200] ^= 0x04;
  std::string path = dir.File("bad.zip");
  ASSERT_TRUE(WriteFileAtomic(path, pack).ok());
  std::string out;
  EXPECT_NE(RunCommand("unzip -t " + ShellQuote(path), &out), 0) << out;
  EXPECT_NE(out.find(e.name), std::string::npos) << out;
  std::string script = WriteScript(dir);
  EXPECT_EQ(RunCommand(std::string(kPython) + " " + ShellQuote(script) + " " + ShellQuote(path) + " " +
                    ShellQuote(dir.File("x")),
                &out),
            2)
      << out;
  EXPECT_NE(out.find(e.name), std::string::npos) << out;
}

TEST(PackInterop, MoreThan65535EntriesWithTools) {
  constexpr int kCount = 65535 + 5;
  TempDir dir;
  std::string path = dir.File("many.zip");
  std::string pack;
  PackWriter w([&](std::string_view b) { pack.append(b); return Status::OK(); });
  for (int i = 0; i < kCount; ++i)
    ASSERT_TRUE(w.AddEntry(Info("1.2", "1.2." + std::to_string(i + 1)),
                           FakeDicom(std::to_string(i)))
                    .ok());
  auto summary = w.Finish({{"StudyInstanceUID", "1.2"}});
  ASSERT_TRUE(summary.ok());
  ASSERT_TRUE(summary->zip64);
  ASSERT_TRUE(WriteFileAtomic(path, pack).ok());
  std::string out;
  int rc = RunCommand(std::string(kPython) + " -c " +
                   ShellQuote("import sys, zipfile\n"
                              "z = zipfile.ZipFile(sys.argv[1])\n"
                              "n = z.namelist()\n"
                              "assert z.testzip() is None\n"
                              "print(len(n), n[0], n[-2], n[-1])\n"
                              "print(z.read(n[-2]) [132:].decode())\n") +
                   " " + ShellQuote(path),
               &out);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(out, std::to_string(kCount + 1) + " 1.2/1.2.1.dcm 1.2/1.2." + std::to_string(kCount) +
                     ".dcm strata-manifest.json\n" + std::to_string(kCount - 1) + "\n");
  rc = RunCommand("unzip -tq " + ShellQuote(path), &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("No errors detected"), std::string::npos) << out;
}

// A real ZIP64 pack, not a forced one: an entry of more than 4 GiB (whose sizes need ZIP64)
// followed by an entry whose offset needs ZIP64. The big entry is zero pages (an anonymous
// mapping) and a hole in a sparse file, so the test needs neither the RAM nor the disk.
TEST(PackInterop, EntryLargerThan4GiB) {
  const uint64_t big_size = (4ull << 30) + 12345;
  void* map = mmap(nullptr, big_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  ASSERT_NE(map, MAP_FAILED);
  std::unique_ptr<void, std::function<void(void*)>> unmap(map, [&](void* p) { munmap(p, big_size); });
  char* big = static_cast<char*>(map);
  std::memcpy(big + 128, "DICM", 4);
  std::memcpy(big + 4096, "payload", 7);
  const std::string_view big_data(big, big_size);

  TempDir dir;
  std::string path = dir.File("big.zip");
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  uint64_t offset = 0;
  auto write_at = [&](std::string_view b) -> Status {
    if (::pwrite(fd, b.data(), b.size(), static_cast<off_t>(offset)) != static_cast<ssize_t>(b.size()))
      return Status::IOError("pwrite");
    return Status::OK();
  };
  PackWriter w([&](std::string_view b) -> Status {
    // The big entry: only its first page holds anything but zeros; the rest stays a hole.
    Status st = write_at(b.data() == big ? b.substr(0, 8192) : b);
    offset += b.size();
    return st;
  });
  std::string small1 = FakeDicom("before the big one"), small2 = FakeDicom("after 4 GiB");
  ASSERT_TRUE(w.AddEntry(Info("1.2.3", "1.2.3.1"), small1).ok());
  auto big_entry = w.AddEntry(Info("1.2.3", "1.2.3.2"), big_data);
  ASSERT_TRUE(big_entry.ok()) << big_entry.status().ToString();
  auto after = w.AddEntry(Info("1.2.3", "1.2.3.3"), small2);
  ASSERT_TRUE(after.ok());
  auto summary = w.Finish({{"StudyInstanceUID", "1.2.3"}});
  ASSERT_TRUE(summary.ok());
  ASSERT_EQ(::close(fd), 0);
  EXPECT_GT(after->offset, 0xFFFFFFFFull);
  EXPECT_TRUE(summary->zip64);
  // The big entry's local header carries the 20-byte ZIP64 extra; the one after it does not.
  EXPECT_EQ(after->offset - (big_entry->offset + big_size), 30 + after->name.size());

  auto reader = OpenPackFile(path);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_TRUE(reader->zip64());
  EXPECT_EQ(reader->entries(), summary->entries);
  auto d = reader->ReadEntry("1.2.3.3");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(*d, small2);
  PackVerifyReport report = reader->Verify();
  EXPECT_TRUE(report.ok()) << report.ToStatus().ToString();
  EXPECT_EQ(report.entries_ok, 3u);

  // Python lists it, finds every entry's data where the manifest says, reads the small ones.
  std::string out;
  int rc = RunCommand(
      std::string(kPython) + " -c " +
          ShellQuote("import struct, sys, zipfile\n"
                     "z = zipfile.ZipFile(sys.argv[1])\n"
                     "f = open(sys.argv[1], 'rb')\n"
                     "for i in z.infolist():\n"
                     "    f.seek(i.header_offset); h = f.read(30)\n"
                     "    n, m = struct.unpack('<HH', h[26:30])\n"
                     "    print(i.filename, i.header_offset + 30 + n + m, i.file_size)\n"
                     "print(z.read('1.2.3/1.2.3.3.dcm')[132:].decode())\n"
                     "print(z.read('1.2.3/1.2.3.1.dcm')[132:].decode())\n") +
          " " + ShellQuote(path),
      &out);
  ASSERT_EQ(rc, 0) << out;
  std::string expected;
  for (const PackEntry& e : summary->entries)
    expected += e.name + " " + std::to_string(e.offset) + " " + std::to_string(e.length) + "\n";
  expected += std::string(kPackManifestName) + " " + std::to_string(summary->manifest_offset) + " " +
              std::to_string(summary->manifest_length) + "\n";
  expected += "after 4 GiB\nbefore the big one\n";
  EXPECT_EQ(out, expected);
  // unzip tests the small members (testing the 4 GiB one would only re-hash zeros).
  rc = RunCommand("unzip -t " + ShellQuote(path) + " 1.2.3/1.2.3.1.dcm 1.2.3/1.2.3.3.dcm " +
                      std::string(kPackManifestName),
                  &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("No errors detected"), std::string::npos) << out;
  rc = RunCommand("unzip -l " + ShellQuote(path), &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find(std::to_string(big_size)), std::string::npos) << out;
}

}  // namespace
}  // namespace strata::testing
