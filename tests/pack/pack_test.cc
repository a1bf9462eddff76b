// PackWriter and PackReader: round trips, ZIP64, validation, corruption and truncation.
#include <gtest/gtest.h>

#include <set>

#include "pack_test_util.h"

namespace strata::testing {
namespace {

using Code = Status::Code;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(PackRoundTrip, SeveralEntriesWithBinaryData) {
  auto entries = SampleEntries();
  std::string pack;
  auto summary = WritePack(entries, &pack);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->total_size, pack.size());
  EXPECT_FALSE(summary->zip64);
  ASSERT_EQ(summary->entries.size(), entries.size());

  // The summary's (offset, length) locate each entry's data in the pack bytes.
  for (size_t i = 0; i < entries.size(); ++i) {
    const PackEntry& e = summary->entries[i];
    EXPECT_EQ(e.name, entries[i].info.series_instance_uid + "/" +
                          entries[i].info.sop_instance_uid + ".dcm");
    EXPECT_EQ(pack.substr(e.offset, e.length), entries[i].data) << e.name;
    EXPECT_EQ(e.crc32, Crc32(entries[i].data));
    EXPECT_EQ(e.xxh3, Xxh3(entries[i].data));
    EXPECT_EQ(e.original_size, e.length);
    EXPECT_EQ(e.original_xxh3, e.xxh3);
    EXPECT_EQ(e.original_transfer_syntax, e.transfer_syntax);
  }
  EXPECT_EQ(Xxh3(pack.substr(summary->manifest_offset, summary->manifest_length)),
            summary->manifest_xxh3);

  auto reader = OpenMemory(&pack);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_TRUE(reader->problems().empty());
  EXPECT_EQ(reader->entries(), summary->entries);
  EXPECT_EQ(reader->study(), SampleStudy());
  EXPECT_EQ(reader->manifest().version, kPackFormatVersion);
  EXPECT_EQ(reader->manifest_offset(), summary->manifest_offset);
  EXPECT_EQ(reader->manifest_xxh3(), summary->manifest_xxh3);
  EXPECT_FALSE(reader->zip64());
  for (const auto& e : entries) {
    auto by_sop = reader->ReadEntry(e.info.sop_instance_uid);
    ASSERT_TRUE(by_sop.ok()) << by_sop.status().ToString();
    EXPECT_EQ(*by_sop, e.data);
    auto by_name =
        reader->ReadEntry(e.info.series_instance_uid + "/" + e.info.sop_instance_uid + ".dcm");
    ASSERT_TRUE(by_name.ok());
    EXPECT_EQ(*by_name, e.data);
  }
  EXPECT_EQ(reader->ReadEntry("9.9.9").status().code(), Code::kNotFound);
  EXPECT_EQ(reader->ReadEntry("1.2.3.4/9.dcm").status().code(), Code::kNotFound);
  auto manifest = reader->ReadManifest();
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(Xxh3(*manifest), summary->manifest_xxh3);

  PackVerifyReport report = reader->Verify();
  EXPECT_TRUE(report.ok()) << report.ToStatus().ToString();
  EXPECT_EQ(report.entries_ok, entries.size());
  EXPECT_EQ(report.entries_checked, entries.size());
}

TEST(PackRoundTrip, SingleRangedReadWithCatalogValues) {
  auto entries = SampleEntries();
  std::string pack;
  auto summary = WritePack(entries, &pack);
  ASSERT_TRUE(summary.ok());
  int reads = 0;
  PackSource counting = [&](uint64_t off, uint64_t len) -> Result<std::string> {
    ++reads;
    return pack.substr(off, len);
  };
  for (size_t i = 0; i < entries.size(); ++i) {
    const PackEntry& e = summary->entries[i];
    auto data = PackReader::ReadVerified(counting, e.offset, e.length, e.xxh3, e.name);
    ASSERT_TRUE(data.ok()) << data.status().ToString();
    EXPECT_EQ(*data, entries[i].data);
  }
  EXPECT_EQ(reads, static_cast<int>(entries.size()));

  // Wrong checksum or a short read from the store: Corruption naming what was read.
  const PackEntry& e = summary->entries[2];
  auto bad = PackReader::ReadVerified(counting, e.offset, e.length, e.xxh3 ^ 1, "packs/s.zip " + e.name);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kCorruption);
  EXPECT_TRUE(Contains(bad.status().message(), e.name));
  PackSource short_reads = [&](uint64_t off, uint64_t len) -> Result<std::string> {
    return pack.substr(off, len - 1);
  };
  EXPECT_EQ(PackReader::ReadVerified(short_reads, e.offset, e.length, e.xxh3, e.name).status().code(),
            Code::kCorruption);
  PackSource failing = [](uint64_t, uint64_t) -> Result<std::string> {
    return Status::Unavailable("store down");
  };
  EXPECT_EQ(PackReader::ReadVerified(failing, e.offset, e.length, e.xxh3, e.name).status().code(),
            Code::kUnavailable);
}

TEST(PackRoundTrip, DeterministicBytesAndTimestampOption) {
  auto entries = SampleEntries();
  std::string a, b, c;
  ASSERT_TRUE(WritePack(entries, &a).ok());
  ASSERT_TRUE(WritePack(entries, &b).ok());
  EXPECT_EQ(a, b);
  PackWriterOptions o;
  o.modified_time = 1709642096;  // 2024-03-05T12:34:56Z
  ASSERT_TRUE(WritePack(entries, &c, o).ok());
  ASSERT_EQ(a.size(), c.size());
  EXPECT_NE(a, c);
  auto lh = zip::DecodeLocalHeader(c);
  ASSERT_TRUE(lh.ok());
  EXPECT_EQ(static_cast<uint8_t>(c[12]) | (static_cast<uint8_t>(c[13]) << 8),
            ((2024 - 1980) << 9) | (3 << 5) | 5);
}

TEST(PackRoundTrip, OriginalFieldsAreRecorded) {
  PackEntryInfo info = Info("1.2.3.4", "1.2.3.4.1", "1.2.840.10008.1.2.4.201");
  info.original_transfer_syntax = kExplicitLE;
  info.original_size = 99999;
  info.original_xxh3 = 0x0123456789abcdefull;
  std::string pack;
  auto summary = WritePack({{info, FakeDicom("htj2k")}}, &pack);
  ASSERT_TRUE(summary.ok());
  auto reader = OpenMemory(&pack);
  ASSERT_TRUE(reader.ok());
  const PackEntry& e = reader->entries()[0];
  EXPECT_EQ(e.transfer_syntax, "1.2.840.10008.1.2.4.201");
  EXPECT_EQ(e.original_transfer_syntax, kExplicitLE);
  EXPECT_EQ(e.original_size, 99999u);
  EXPECT_EQ(e.original_xxh3, 0x0123456789abcdefull);
  EXPECT_EQ(e.length, FakeDicom("htj2k").size());
}

TEST(PackRoundTrip, SinkSeesBytesInOrderAndNeverSeeks) {
  auto entries = SampleEntries();
  std::vector<std::string> chunks;
  PackWriter w([&](std::string_view b) { chunks.emplace_back(b); return Status::OK(); });
  uint64_t expected = 0;
  for (const auto& e : entries) {
    auto r = w.AddEntry(e.info, e.data);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->offset + r->length, w.bytes_written());
    EXPECT_GT(r->offset, expected);
    expected = w.bytes_written();
  }
  auto s = w.Finish(SampleStudy());
  ASSERT_TRUE(s.ok());
  std::string joined;
  for (const auto& c : chunks) joined += c;
  EXPECT_EQ(joined.size(), s->total_size);
  EXPECT_TRUE(OpenMemory(&joined).ok());
  EXPECT_EQ(w.entry_count(), entries.size());
  // The entry data is handed to the sink as one unmodified chunk.
  bool found = false;
  for (const auto& c : chunks) found |= c == entries[2].data;
  EXPECT_TRUE(found);
}

TEST(PackZip64, ForcedOnSmallPack) {
  auto entries = SampleEntries();
  PackWriterOptions o;
  o.force_zip64 = true;
  std::string pack;
  auto summary = WritePack(entries, &pack, o);
  ASSERT_TRUE(summary.ok());
  EXPECT_TRUE(summary->zip64);
  // Local headers carry the 20-byte ZIP64 extra, and the data offset accounts for it.
  const PackEntry& first = summary->entries[0];
  EXPECT_EQ(first.offset, 30 + first.name.size() + 20);
  // The end of central directory record is fully masked; the ZIP64 records precede it.
  auto eocd = zip::DecodeEndRecord(std::string_view(pack).substr(pack.size() - zip::kEndSize));
  ASSERT_TRUE(eocd.ok());
  EXPECT_EQ(eocd->entries, 0xFFFF);
  EXPECT_EQ(eocd->cd_offset, 0xFFFFFFFFu);
  auto reader = OpenMemory(&pack);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_TRUE(reader->zip64());
  EXPECT_EQ(reader->entries(), summary->entries);
  for (const auto& e : entries) {
    auto d = reader->ReadEntry(e.info.sop_instance_uid);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ(*d, e.data);
  }
  EXPECT_TRUE(reader->Verify().ok());
}

TEST(PackZip64, MoreThan65535Entries) {
  constexpr int kCount = 65535 + 12;
  std::string pack;
  PackWriter w([&](std::string_view b) { pack.append(b); return Status::OK(); });
  const std::string payload = FakeDicom("x");
  for (int i = 0; i < kCount; ++i) {
    std::string data = payload + std::to_string(i);
    auto r = w.AddEntry(Info("1.2", "1.2." + std::to_string(i + 1)), data);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  auto summary = w.Finish({{"StudyInstanceUID", "1.2"}});
  ASSERT_TRUE(summary.ok());
  EXPECT_TRUE(summary->zip64);  // entry count alone requires it
  auto reader = OpenMemory(&pack);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_TRUE(reader->zip64());
  ASSERT_EQ(reader->entries().size(), static_cast<size_t>(kCount));
  for (int i : {0, 1, 40000, 65534, 65535, kCount - 1}) {
    auto d = reader->ReadEntry("1.2." + std::to_string(i + 1));
    ASSERT_TRUE(d.ok()) << i << ": " << d.status().ToString();
    EXPECT_EQ(*d, payload + std::to_string(i));
  }
  PackVerifyReport report = reader->Verify();
  EXPECT_TRUE(report.ok()) << report.ToStatus().ToString();
  EXPECT_EQ(report.entries_ok, static_cast<uint64_t>(kCount));
}

TEST(PackWriterValidation, RejectsBadInput) {
  std::string out;
  PackWriter w([&](std::string_view b) { out.append(b); return Status::OK(); });
  const std::string dcm = FakeDicom("ok");
  struct Case {
    PackEntryInfo info;
    std::string data;
    std::string why;
  };
  std::vector<Case> cases = {
      {Info("1.02.3", "1.2.3.1"), dcm, "leading zero"},
      {Info("1.2.3", "abc"), dcm, "letters"},
      {Info("", "1.2.3.1"), dcm, "empty series"},
      {Info("1.2.3", "1.2.3..1"), dcm, "empty component"},
      {Info("1.2.3", std::string(65, '1')), dcm, "too long"},
      {Info("../etc", "1.2"), dcm, "path"},
      {Info("1.2.3", "1.2.3.1", "not-a-uid"), dcm, "transfer syntax"},
      {Info("1.2.3", "1.2.3.1"), "not dicom", "no DICM"},
      {Info("1.2.3", "1.2.3.1"), std::string(128, '\0') + "DICX", "wrong magic"},
  };
  for (const Case& c : cases) {
    auto r = w.AddEntry(c.info, c.data);
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << c.why;
  }
  PackEntryInfo no_class = Info("1.2.3", "1.2.3.1");
  no_class.sop_class_uid.clear();
  EXPECT_EQ(w.AddEntry(no_class, dcm).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(w.bytes_written(), 0u);  // refused entries write nothing
  EXPECT_TRUE(out.empty());

  ASSERT_TRUE(w.AddEntry(Info("1.2.3", "1.2.3.1"), dcm).ok());
  uint64_t written = w.bytes_written();
  auto dup = w.AddEntry(Info("1.2.3", "1.2.3.1"), dcm);
  EXPECT_EQ(dup.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(Contains(dup.status().message(), "1.2.3/1.2.3.1.dcm"));
  // Same SOP Instance UID in another series is a duplicate too.
  EXPECT_EQ(w.AddEntry(Info("1.2.4", "1.2.3.1"), dcm).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(w.bytes_written(), written);

  EXPECT_EQ(w.Finish(nlohmann::json::array()).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(w.Finish(nlohmann::json("x")).status().code(), Code::kInvalidArgument);
  ASSERT_TRUE(w.Finish(nlohmann::json::object()).ok());
  EXPECT_EQ(w.AddEntry(Info("1.2.3", "1.2.3.2"), dcm).status().code(), Code::kInvalidArgument);
  EXPECT_FALSE(w.Finish(nlohmann::json::object()).ok());
}

TEST(PackWriterValidation, EmptyPackAndBadMetadata) {
  std::string out;
  PackWriter empty([&](std::string_view b) { out.append(b); return Status::OK(); });
  EXPECT_EQ(empty.Finish(nlohmann::json::object()).status().code(), Code::kInvalidArgument);

  PackWriter w([&](std::string_view b) { out.append(b); return Status::OK(); });
  ASSERT_TRUE(w.AddEntry(Info("1.2.3", "1.2.3.1"), FakeDicom("a")).ok());
  EXPECT_EQ(w.Finish(nlohmann::json::array()).status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(w.Finish(nlohmann::json::object()).ok());  // nothing was written by the failure
  EXPECT_TRUE(OpenMemory(&out).ok());
}

// Issue 12: a catalog row from before decoding at ingest holds the name's raw Latin-1 bytes;
// its pack is written (it used to fail forever) with the undecodable bytes escaped.
TEST(PackWriterValidation, NonUtf8MetadataIsWrittenEscaped) {
  std::string out;
  PackWriter w([&](std::string_view b) { out.append(b); return Status::OK(); });
  ASSERT_TRUE(w.AddEntry(Info("1.2.3", "1.2.3.1"), FakeDicom("a")).ok());
  const nlohmann::json old_row = {{"PatientName", std::string("M\xfcller^J\xfcrgen")},
                                  {"StudyDescription", std::string("Th\xc3\xb6rax")},  // UTF-8 stays
                                  {"Nested", {std::string("\xff")}}};
  auto r = w.Finish(old_row);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto reader = OpenMemory(&out);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  // U+EFFC is the escape of byte 0xFC (EF BF BC in UTF-8), U+EFFF of 0xFF.
  EXPECT_EQ(reader->study()["PatientName"], "M\xee\xbf\xbcller^J\xee\xbf\xbcrgen");
  EXPECT_EQ(reader->study()["StudyDescription"], "Th\xc3\xb6rax");
  EXPECT_EQ(reader->study()["Nested"][0], "\xee\xbf\xbf");
}

// A manifest with raw non-UTF-8 bytes in a string (written by another tool) is read with the
// bytes escaped instead of being refused as "not JSON".
TEST(PackManifest, RawBytesInStringsAreReadEscaped) {
  std::string m = *EncodeManifest(nlohmann::json{{"PatientName", "X"}}, {});
  const size_t at = m.find("\"X\"");
  ASSERT_NE(at, std::string::npos);
  m.replace(at, 3, "\"M\xfcller\"");
  auto d = DecodeManifest(m);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->study["PatientName"], "M\xee\xbf\xbcller");
  EXPECT_EQ(DecodeManifest("{\"format\": \"\xff").status().code(), Code::kCorruption);  // still not JSON
}

TEST(PackWriterValidation, SinkFailureIsStickyAndReported) {
  int calls = 0;
  PackWriter w([&](std::string_view) -> Status {
    if (++calls == 3) return Status::NoSpace("disk full");
    return Status::OK();
  });
  EXPECT_TRUE(w.AddEntry(Info("1.2.3", "1.2.3.1"), FakeDicom("a")).ok());  // calls 1, 2
  auto r = w.AddEntry(Info("1.2.3", "1.2.3.2"), FakeDicom("b"));          // call 3 fails
  EXPECT_EQ(r.status().code(), Code::kNoSpace);
  EXPECT_TRUE(Contains(r.status().message(), "disk full"));
  EXPECT_EQ(w.AddEntry(Info("1.2.3", "1.2.3.3"), FakeDicom("c")).status().code(), Code::kNoSpace);
  EXPECT_EQ(w.Finish(nlohmann::json::object()).status().code(), Code::kNoSpace);
  EXPECT_EQ(calls, 3);
}

TEST(PackReaderNames, ParseAndValidate) {
  std::string series, sop;
  EXPECT_TRUE(ParsePackEntryName("1.2.3/1.2.3.4.dcm", &series, &sop).ok());
  EXPECT_EQ(series, "1.2.3");
  EXPECT_EQ(sop, "1.2.3.4");
  for (const char* bad : {"1.2.3/1.2.3.4", "1.2.3.4.dcm", "/1.2.dcm", "1.2/.dcm", "../1.2/3.dcm",
                          "1.2/../3.dcm", "1.2/3/4.dcm", "1.2/03.dcm", "a/b.dcm", "1.2/3.DCM",
                          "1.2\\3.dcm", "", "strata-manifest.json"}) {
    EXPECT_EQ(ParsePackEntryName(bad, nullptr, nullptr).code(), Code::kInvalidArgument) << bad;
  }
}

// --- corruption -----------------------------------------------------------------------------

TEST(PackCorruption, FlippedDataByteFailsThatEntryOnly) {
  auto entries = SampleEntries();
  std::string pack;
  auto summary = WritePack(entries, &pack);
  ASSERT_TRUE(summary.ok());
  const PackEntry& bad = summary->entries[2];
  pack[bad.offset + bad.length / 2] ^= 0x01;

  auto reader = OpenMemory(&pack, "study.pack");
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto r = reader->ReadEntry(bad.sop_instance_uid);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kCorruption);
  EXPECT_TRUE(Contains(r.status().message(), bad.name)) << r.status().message();
  EXPECT_TRUE(Contains(r.status().message(), "study.pack")) << r.status().message();
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i == 2) continue;
    auto ok = reader->ReadEntry(summary->entries[i].name);
    ASSERT_TRUE(ok.ok()) << ok.status().ToString();
    EXPECT_EQ(*ok, entries[i].data);
  }
  // The catalog path detects it too.
  EXPECT_EQ(PackReader::ReadVerified(MemorySource(&pack), bad.offset, bad.length, bad.xxh3, bad.name)
                .status()
                .code(),
            Code::kCorruption);

  PackVerifyReport report = reader->Verify();
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].entry, bad.name);
  EXPECT_EQ(report.entries_ok, entries.size() - 1);
  Status st = report.ToStatus();
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_TRUE(Contains(st.message(), bad.name));
  EXPECT_TRUE(Contains(st.message(), "study.pack"));
}

TEST(PackCorruption, VerifyListsEveryBadEntry) {
  auto entries = SampleEntries();
  std::string pack;
  auto summary = WritePack(entries, &pack);
  ASSERT_TRUE(summary.ok());
  std::set<std::string> damaged;
  for (size_t i : {0u, 2u, 4u}) {
    const PackEntry& e = summary->entries[i];
    pack[e.offset + e.length - 1] ^= 0x80;
    damaged.insert(e.name);
  }
  // A damaged local header (name) on entry 1.
  const PackEntry& e1 = summary->entries[1];
  pack[e1.offset - 1] ^= 0x01;  // last character of the name in its local header
  damaged.insert(e1.name);

  auto reader = OpenMemory(&pack);
  ASSERT_TRUE(reader.ok());
  PackVerifyReport report = reader->Verify();
  std::set<std::string> named;
  for (const auto& p : report.problems) named.insert(p.entry);
  EXPECT_EQ(named, damaged);
  EXPECT_EQ(report.entries_ok, 1u);
  EXPECT_EQ(reader->ReadEntry(e1.name).status().code(), Code::kCorruption);
  EXPECT_TRUE(reader->ReadEntry(summary->entries[3].name).ok());
}

TEST(PackCorruption, DamagedManifestFailsOpen) {
  std::string pack;
  auto summary = WritePack(SampleEntries(), &pack);
  ASSERT_TRUE(summary.ok());
  pack[summary->manifest_offset + 10] ^= 0x20;
  auto reader = OpenMemory(&pack);
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), Code::kCorruption);
  EXPECT_TRUE(Contains(reader.status().message(), "manifest")) << reader.status().message();
  // Entries stay readable through the catalog path.
  const PackEntry& e = summary->entries[0];
  EXPECT_TRUE(PackReader::ReadVerified(MemorySource(&pack), e.offset, e.length, e.xxh3, e.name).ok());
}

TEST(PackCorruption, TruncatedPackIsACleanError) {
  std::string pack;
  PackWriterOptions o;
  for (bool zip64 : {false, true}) {
    o.force_zip64 = zip64;
    std::vector<TestEntry> entries = {{Info("1.2.3", "1.2.3.1"), FakeDicom("first")},
                                      {Info("1.2.3", "1.2.3.2"), FakeDicom("second")}};
    ASSERT_TRUE(WritePack(entries, &pack, o).ok());
    for (size_t n = 0; n < pack.size(); ++n) {
      std::string cut = pack.substr(0, n);
      auto r = OpenMemory(&cut);
      ASSERT_FALSE(r.ok()) << "length " << n;
      EXPECT_EQ(r.status().code(), Code::kCorruption) << n << ": " << r.status().ToString();
    }
  }
  // A truncated file on disk, through OpenPackFile.
  TempDir dir;
  std::string path = dir.File("cut.zip");
  ASSERT_TRUE(WriteFileAtomic(path, pack.substr(0, pack.size() - 7)).ok());
  auto r = OpenPackFile(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kCorruption);
  EXPECT_TRUE(Contains(r.status().message(), path));
  EXPECT_TRUE(Contains(r.status().message(), "truncated"));
}

TEST(PackCorruption, NotAZipFile) {
  for (const std::string& junk : {std::string(), std::string("hello"), RandomBytes(100000, 3),
                                  std::string(100, '\0')}) {
    auto r = OpenMemory(&junk);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Code::kCorruption);
  }
  EXPECT_EQ(OpenPackFile("/nonexistent/pack.zip").status().code(), Code::kNotFound);
}

TEST(PackCorruption, LyingEndRecordsDoNotAllocate) {
  std::string pack;
  ASSERT_TRUE(WritePack({{Info("1.2.3", "1.2.3.1"), FakeDicom("a")}}, &pack).ok());
  // Entry count far beyond what the directory can hold.
  std::string many = pack;
  size_t eocd = many.size() - zip::kEndSize;
  many[eocd + 8] = many[eocd + 10] = static_cast<char>(0xFE);
  many[eocd + 9] = many[eocd + 11] = static_cast<char>(0xFF);
  auto r = OpenMemory(&many);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status().message(), "cannot fit")) << r.status().message();
  // Directory size / offset pointing outside the pack.
  std::string off = pack;
  off[eocd + 19] = 0x7F;
  EXPECT_EQ(OpenMemory(&off).status().code(), Code::kCorruption);
  // A ZIP64 record claiming an enormous directory.
  PackWriterOptions o;
  o.force_zip64 = true;
  std::string z;
  ASSERT_TRUE(WritePack({{Info("1.2.3", "1.2.3.1"), FakeDicom("a")}}, &z, o).ok());
  size_t rec = z.size() - zip::kEndSize - zip::kZip64LocatorSize - zip::kZip64EndSize;
  for (int i = 0; i < 8; ++i) z[rec + 40 + i] = static_cast<char>(0x7F);  // cd_size
  auto rz = OpenMemory(&z);
  ASSERT_FALSE(rz.ok());
  EXPECT_EQ(rz.status().code(), Code::kCorruption);
}

// Random damage anywhere: Open and ReadEntry either fail cleanly or return the right bytes.
TEST(PackCorruption, RandomDamageNeverYieldsBadData) {
  auto entries = SampleEntries();
  entries[2].data = FakeDicom(RandomBytes(3000, 11));  // keep the pack small
  std::string pristine;
  PackWriterOptions o;
  std::mt19937 rng(42);
  for (bool zip64 : {false, true}) {
    o.force_zip64 = zip64;
    ASSERT_TRUE(WritePack(entries, &pristine, o).ok());
    for (int iter = 0; iter < 3000; ++iter) {
      std::string pack = pristine;
      int flips = 1 + static_cast<int>(rng() % 3);
      for (int f = 0; f < flips; ++f) {
        // Half the time aim at the structures after the entry data (directory, end records).
        size_t lo = (rng() & 1) ? pack.size() - std::min<size_t>(pack.size(), 600) : 0;
        size_t pos = lo + rng() % (pack.size() - lo);
        pack[pos] = static_cast<char>(rng() & 0xFF);
      }
      auto reader = OpenMemory(&pack);
      if (!reader.ok()) continue;
      for (const auto& e : entries) {
        auto d = reader->ReadEntry(e.info.sop_instance_uid);
        if (d.ok()) {
          EXPECT_EQ(*d, e.data) << "iteration " << iter;
        }
      }
      (void)reader->Verify();
    }
  }
}

// --- archives PackWriter would not write ------------------------------------------------------

TEST(PackConsistency, MemberMissingFromManifestAndViceVersa) {
  CraftedPack c;
  c.Add("1.2.3/1.2.3.1.dcm", FakeDicom("one"));
  c.Add("1.2.3/1.2.3.2.dcm", FakeDicom("two"));
  auto listed = c.ManifestEntries();
  PackEntry ghost = listed[0];
  ghost.name = "1.2.3/1.2.3.9.dcm";
  ghost.sop_instance_uid = "1.2.3.9";
  std::vector<PackEntry> manifest = {listed[0], ghost};  // lists a ghost, omits entry 2
  std::string pack = c.BuildWith(manifest);
  auto reader = OpenMemory(&pack);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_TRUE(reader->ReadEntry("1.2.3.1").ok());
  EXPECT_EQ(reader->ReadEntry("1.2.3.9").status().code(), Code::kCorruption);
  PackVerifyReport report = reader->Verify();
  std::set<std::string> named;
  for (const auto& p : report.problems) named.insert(p.entry);
  EXPECT_EQ(named, (std::set<std::string>{"1.2.3/1.2.3.9.dcm", "1.2.3/1.2.3.2.dcm"}));
  EXPECT_EQ(report.entries_ok, 1u);
}

TEST(PackConsistency, ManifestDisagreesWithDirectory) {
  CraftedPack c;
  c.Add("1.2.3/1.2.3.1.dcm", FakeDicom("one"));
  c.Add("1.2.3/1.2.3.2.dcm", FakeDicom("two"));
  c.Add("1.2.3/1.2.3.3.dcm", FakeDicom("three"));
  auto m = c.ManifestEntries();
  m[0].offset += 1;
  m[1].crc32 ^= 1;
  m[2].series_instance_uid = "1.2.4";
  std::string pack = c.BuildWith(m);
  auto reader = OpenMemory(&pack);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  for (const auto& e : m) {
    auto r = reader->ReadEntry(e.name);
    EXPECT_EQ(r.status().code(), Code::kCorruption) << e.name;
  }
  PackVerifyReport report = reader->Verify();
  EXPECT_EQ(report.problems.size(), 3u);
  EXPECT_TRUE(Contains(report.ToStatus().message(), "offset"));
  EXPECT_TRUE(Contains(report.ToStatus().message(), "crc32"));
}

// CRC-32 intact, XXH3 in the manifest wrong: the XXH3 check alone must catch it.
TEST(PackConsistency, Xxh3IsCheckedIndependentlyOfCrc) {
  CraftedPack c;
  c.Add("1.2.3/1.2.3.1.dcm", FakeDicom("one"));
  c.Add("1.2.3/1.2.3.2.dcm", FakeDicom("two"));
  auto m = c.ManifestEntries();
  m[1].xxh3 ^= 0x100;
  std::string pack = c.BuildWith(m);
  auto reader = OpenMemory(&pack);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_TRUE(reader->problems().empty());
  EXPECT_TRUE(reader->ReadEntry("1.2.3.1").ok());
  auto r = reader->ReadEntry("1.2.3.2");
  EXPECT_EQ(r.status().code(), Code::kCorruption);
  EXPECT_TRUE(Contains(r.status().message(), "XXH3 mismatch")) << r.status().message();
  PackVerifyReport report = reader->Verify();
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].entry, "1.2.3/1.2.3.2.dcm");
  EXPECT_TRUE(Contains(report.problems[0].message, "XXH3 mismatch"));
}

TEST(PackConsistency, BadNamesDuplicatesAndCompressedMembers) {
  CraftedPack c;
  c.Add("../1.2.3.1.dcm", FakeDicom("evil"));
  c.Add("1.2.3/1.2.3.2.dcm", FakeDicom("dup-a"));
  c.Add("1.2.3/1.2.3.2.dcm", FakeDicom("dup-b"));
  c.Add("1.2.3/1.2.3.4.dcm", FakeDicom("deflated?"), /*method=*/8);
  c.Add("1.2.3/1.2.3.5.dcm", FakeDicom("fine"));
  std::string pack = c.BuildWith(c.ManifestEntries());
  auto reader = OpenMemory(&pack);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ(reader->ReadEntry("1.2.3/1.2.3.2.dcm").status().code(), Code::kCorruption);
  EXPECT_EQ(reader->ReadEntry("1.2.3.4").status().code(), Code::kCorruption);
  EXPECT_FALSE(reader->ReadEntry("../1.2.3.1.dcm").ok());
  auto fine = reader->ReadEntry("1.2.3.5");
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ(*fine, FakeDicom("fine"));
  std::set<std::string> named;
  for (const auto& p : reader->Verify().problems) named.insert(p.entry);
  EXPECT_EQ(named, (std::set<std::string>{"../1.2.3.1.dcm", "1.2.3/1.2.3.2.dcm",
                                          "1.2.3/1.2.3.4.dcm"}));
}

TEST(PackConsistency, ManifestProblemsFailOpen) {
  CraftedPack c;
  c.Add("1.2.3/1.2.3.1.dcm", FakeDicom("one"));
  auto entries = c.ManifestEntries();

  auto open = [](const std::string& pack) { return OpenMemory(&pack).status(); };
  EXPECT_EQ(open(c.Build("", /*with_manifest=*/false)).code(), Code::kCorruption);
  EXPECT_EQ(open(c.Build("not json")).code(), Code::kCorruption);
  EXPECT_EQ(open(c.Build("[]")).code(), Code::kCorruption);
  EXPECT_EQ(open(c.Build(R"({"format":"other","version":1,"study":{},"entries":[]})")).code(),
            Code::kCorruption);
  Status newer = open(c.Build(R"({"format":"strata-pack","version":2,"study":{},"entries":[]})"));
  EXPECT_EQ(newer.code(), Code::kInvalidArgument);
  EXPECT_TRUE(Contains(newer.message(), "version 2"));
  nlohmann::json missing = nlohmann::json::parse(*EncodeManifest(nlohmann::json::object(), entries));
  missing["entries"][0].erase("xxh3");
  Status st = open(c.Build(missing.dump()));
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_TRUE(Contains(st.message(), "xxh3"));
  EXPECT_TRUE(Contains(st.message(), "1.2.3/1.2.3.1.dcm"));

  // The manifest must be the last member.
  CraftedPack first;
  first.Add(std::string(kPackManifestName), *EncodeManifest(nlohmann::json::object(), {}));
  first.Add("1.2.3/1.2.3.1.dcm", FakeDicom("one"));
  EXPECT_EQ(open(first.Build("", false)).code(), Code::kCorruption);

  // Unknown manifest fields are ignored (forward compatible within a version).
  nlohmann::json extra = nlohmann::json::parse(*EncodeManifest(nlohmann::json::object(), entries));
  extra["future_field"] = 1;
  extra["entries"][0]["future_entry_field"] = "x";
  std::string pack = c.Build(extra.dump());
  auto reader = OpenMemory(&pack);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_TRUE(reader->Verify().ok());
}

}  // namespace
}  // namespace strata::testing
