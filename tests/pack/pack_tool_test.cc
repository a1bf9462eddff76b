// PackInspect / PackVerify / PackExtract on pack files.
#include "pack/pack_tool.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "pack_test_util.h"

namespace strata::testing {
namespace {

using Code = Status::Code;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class PackToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    entries_ = SampleEntries();
    auto s = WritePack(entries_, &pack_);
    ASSERT_TRUE(s.ok());
    summary_ = *s;
    path_ = dir_.File("study.zip");
    ASSERT_TRUE(WriteFileAtomic(path_, pack_).ok());
  }
  std::string Damage(size_t entry_index) {
    const PackEntry& e = summary_.entries[entry_index];
    std::string bad = pack_;
    bad[e.offset + e.length / 3] ^= 0x10;
    std::string path = dir_.File("damaged.zip");
    EXPECT_TRUE(WriteFileAtomic(path, bad).ok());
    return path;
  }

  TempDir dir_;
  std::vector<TestEntry> entries_;
  std::string pack_;
  PackSummary summary_;
  std::string path_;
};

TEST_F(PackToolTest, InspectText) {
  std::ostringstream out;
  PackInspectOptions o;
  o.list_entries = true;
  ASSERT_TRUE(PackInspect(path_, out, o).ok());
  std::string s = out.str();
  EXPECT_TRUE(Contains(s, "entries:    5 in 2 series")) << s;
  EXPECT_TRUE(Contains(s, "\"StudyInstanceUID\":\"1.2.3\"")) << s;
  EXPECT_TRUE(Contains(s, "1.2.840.10008.1.2.1  4 entries")) << s;
  EXPECT_TRUE(Contains(s, "1.2.840.10008.1.2.4.90  1 entries")) << s;
  EXPECT_TRUE(Contains(s, std::to_string(pack_.size()) + " bytes")) << s;
  for (const PackEntry& e : summary_.entries)
    EXPECT_TRUE(Contains(s, e.name + "  " + std::to_string(e.offset))) << e.name;
  EXPECT_FALSE(Contains(s, "problems"));
}

TEST_F(PackToolTest, InspectJson) {
  std::ostringstream out;
  PackInspectOptions o;
  o.json = true;
  ASSERT_TRUE(PackInspect(path_, out, o).ok());
  nlohmann::json j = nlohmann::json::parse(out.str(), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out.str();
  EXPECT_EQ(j["entry_count"], 5);
  EXPECT_EQ(j["series_count"], 2);
  EXPECT_EQ(j["size"], pack_.size());
  EXPECT_EQ(j["study"]["PatientID"], "P-001");
  EXPECT_EQ(j["transfer_syntaxes"]["1.2.840.10008.1.2.1"], 4);
  ASSERT_EQ(j["entries"].size(), 5u);
  EXPECT_EQ(j["entries"][2]["offset"], summary_.entries[2].offset);
  EXPECT_EQ(j["entries"][2]["xxh3"], HexU64(summary_.entries[2].xxh3));
  EXPECT_EQ(j["manifest"]["xxh3"], HexU64(summary_.manifest_xxh3));
  EXPECT_TRUE(j["problems"].empty());
}

TEST_F(PackToolTest, InspectErrors) {
  std::ostringstream out;
  EXPECT_EQ(PackInspect(dir_.File("missing.zip"), out).code(), Code::kNotFound);
  std::string cut = dir_.File("cut.zip");
  ASSERT_TRUE(WriteFileAtomic(cut, pack_.substr(0, pack_.size() / 2)).ok());
  Status st = PackInspect(cut, out);
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_TRUE(Contains(st.message(), cut));
}

TEST_F(PackToolTest, VerifyGoodPack) {
  std::ostringstream out;
  EXPECT_TRUE(PackVerify(path_, out).ok()) << out.str();
  EXPECT_TRUE(Contains(out.str(), "OK " + path_ + ": 5 entries")) << out.str();
}

TEST_F(PackToolTest, VerifyNamesTheBadEntry) {
  std::string bad = Damage(3);
  std::ostringstream out;
  Status st = PackVerify(bad, out);
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_TRUE(Contains(st.message(), summary_.entries[3].name)) << st.message();
  EXPECT_TRUE(Contains(st.message(), bad)) << st.message();
  EXPECT_TRUE(Contains(out.str(), "FAILED " + bad)) << out.str();
  EXPECT_TRUE(Contains(out.str(), "entry " + summary_.entries[3].name + ": XXH3 mismatch") ||
              Contains(out.str(), "entry " + summary_.entries[3].name + ": CRC-32 mismatch"))
      << out.str();
  EXPECT_TRUE(Contains(out.str(), "4 of 5 entries OK")) << out.str();

  std::string cut = dir_.File("cut.zip");
  ASSERT_TRUE(WriteFileAtomic(cut, pack_.substr(0, pack_.size() - 1)).ok());
  std::ostringstream out2;
  EXPECT_EQ(PackVerify(cut, out2).code(), Code::kCorruption);
  EXPECT_TRUE(Contains(out2.str(), "FAILED " + cut)) << out2.str();
}

TEST_F(PackToolTest, ExtractWritesVerifiedFiles) {
  std::string out_dir = dir_.File("out");
  std::ostringstream out;
  ASSERT_TRUE(PackExtract(path_, out_dir, out).ok()) << out.str();
  for (size_t i = 0; i < entries_.size(); ++i) {
    auto data = ReadFile(out_dir + "/" + summary_.entries[i].name);
    ASSERT_TRUE(data.ok()) << data.status().ToString();
    EXPECT_EQ(*data, entries_[i].data);
  }
  auto manifest = ReadFile(out_dir + "/" + std::string(kPackManifestName));
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(Xxh3(*manifest), summary_.manifest_xxh3);
  EXPECT_TRUE(Contains(out.str(), "extracted 5 of 5 entries")) << out.str();
}

TEST_F(PackToolTest, ExtractSkipsAndNamesBadEntry) {
  std::string bad = Damage(1);
  std::string out_dir = dir_.File("out");
  std::ostringstream out;
  Status st = PackExtract(bad, out_dir, out);
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_TRUE(Contains(st.message(), summary_.entries[1].name)) << st.message();
  EXPECT_FALSE(std::filesystem::exists(out_dir + "/" + summary_.entries[1].name));
  for (size_t i : {0u, 2u, 3u, 4u}) {
    auto data = ReadFile(out_dir + "/" + summary_.entries[i].name);
    ASSERT_TRUE(data.ok());
    EXPECT_EQ(*data, entries_[i].data);
  }
}

TEST_F(PackToolTest, ExtractRefusesUnsafeNames) {
  CraftedPack c;
  c.Add("../1.2.3.1.dcm", FakeDicom("escape"));
  c.Add("/1.2/1.2.3.2.dcm", FakeDicom("absolute"));
  c.Add("1.2.3/1.2.3.3.dcm", FakeDicom("fine"));
  std::string crafted = dir_.File("crafted.zip");
  ASSERT_TRUE(WriteFileAtomic(crafted, c.BuildWith(c.ManifestEntries())).ok());
  std::string out_dir = dir_.File("deep/out");
  std::ostringstream out;
  Status st = PackExtract(crafted, out_dir, out);
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_TRUE(Contains(st.message(), "../1.2.3.1.dcm")) << st.message();
  EXPECT_TRUE(Contains(st.message(), "/1.2/1.2.3.2.dcm")) << st.message();
  EXPECT_FALSE(std::filesystem::exists(dir_.File("deep/1.2.3.1.dcm")));
  EXPECT_FALSE(std::filesystem::exists("/1.2/1.2.3.2.dcm"));
  auto fine = ReadFile(out_dir + "/1.2.3/1.2.3.3.dcm");
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ(*fine, FakeDicom("fine"));
  // Nothing but the good entry and the manifest was created.
  size_t files = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir_.File("deep")))
    files += f.is_regular_file();
  EXPECT_EQ(files, 2u);
}

TEST(CheckExtractName, Cases) {
  EXPECT_TRUE(CheckExtractName("1.2.3/1.2.3.4.dcm").ok());
  EXPECT_TRUE(CheckExtractName("strata-manifest.json").ok());
  for (const char* bad : {"", "/etc/passwd", "../x.dcm", "1.2/../../x.dcm", "1.2/./3.dcm",
                          "1.2//3.dcm", "..", "1.2\\3.dcm", "notes.txt", "1.2/3.dcm/"}) {
    Status st = CheckExtractName(bad);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(CheckExtractName(std::string("1.2/3\0.dcm", 10)).ok());
}

}  // namespace
}  // namespace strata::testing
