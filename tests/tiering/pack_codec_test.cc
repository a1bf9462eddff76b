// The converter's entry transcoder proves each re-encoded entry before it goes into a pack:
// a deliberately broken encoder (one pixel bit flipped, a fragment cut short) makes the entry
// go in as received, with an event=lossless_proof_failed line, and the manifest says which
// entries were proven. Lossy JPEG 2000 needs a second, explicit consent.
#include "../archive/temp_archive_test.h"
#include "tiering/pack_codec.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <spdlog/sinks/ostream_sink.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "codec/lossless_proof.h"
#include "codec/part10_io.h"
#include "codec/synthetic_image.h"
#include "codec/transcoder.h"
#include "pack/pack_reader.h"

namespace strata {
namespace {

namespace ts = codec::ts;

// Captures what the process logs while it lives.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_level(spdlog::level::info);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

// A CT slice of study/series STUDY, as a Part 10 file in Explicit VR LE.
std::string CtSlice(uint32_t slice, const std::string& study = "") {
  codec::SyntheticSpec spec;
  spec.rows = 64;
  spec.columns = 64;
  spec.bits_stored = 12;
  spec.pattern = codec::Pattern::kCt;
  spec.slice = slice;
  spec.seed = slice + 1;
  auto file = codec::MakeSyntheticImage(spec);
  if (!study.empty()) {
    file->getDataset()->putAndInsertString(DCM_StudyInstanceUID, study.c_str());
    file->getDataset()->putAndInsertString(DCM_SeriesInstanceUID, (study + ".1").c_str());
  }
  return codec::WritePart10(*file, *codec::FindSyntax(ts::kExplicitLE)).value();
}

// Real encoding of a copy of the input whose first pixel has its lowest bit flipped: a valid
// codestream of the wrong image, the kind of result an encoder bug gives.
Result<std::string> FlipOnePixelBit(std::string_view part10, const std::string& target,
                                    const codec::TranscodeOptions& o) {
  STRATA_ASSIGN_OR_RETURN(codec::Part10File f, codec::ReadPart10(part10));
  DcmElement* e = nullptr;
  Uint8* p = nullptr;
  if (f.file->getDataset()->findAndGetElement(DCM_PixelData, e).bad() || e->getUint8Array(p).bad()) {
    return Status::Internal("no pixel data");
  }
  p[0] ^= 0x01;
  STRATA_ASSIGN_OR_RETURN(std::string flipped, codec::WritePart10(*f.file, *f.syntax));
  return codec::Transcoder().Transcode(flipped, target, o);
}

// Real encoding, then the last fragment's second half cut off (the file stays parseable).
Result<std::string> TruncateFragment(std::string_view part10, const std::string& target,
                                     const codec::TranscodeOptions& o) {
  STRATA_ASSIGN_OR_RETURN(std::string out, codec::Transcoder().Transcode(part10, target, o));
  // The file ends with the last fragment's bytes then the Sequence Delimitation Item (8 bytes);
  // overwrite the codestream's tail with zeros (an encoder that lost its last buffer).
  const size_t end = out.size() - 8;
  for (size_t i = end - 200; i < end; ++i) out[i] = 0;
  return out;
}

InstanceRecord RecordOf() {
  InstanceRecord r;
  r.modality = "CT";
  r.transfer_syntax = std::string(ts::kExplicitLE);
  r.sop_uid = "1.2.3";
  return r;
}

std::string SopOf(const std::string& part10) {
  OFString v;
  Result<codec::Part10File> f = codec::ReadPart10(part10);
  if (!f.ok() || f->file->getDataset()->findAndGetOFString(DCM_SOPInstanceUID, v).bad()) return "";
  return v.c_str();
}

PackCodecPolicy JpegLs() {
  PackCodecPolicy p;
  p.default_codec = "jpeg-ls";
  return p;
}

TEST(PackCodecProofTest, GoodEncodingIsMarkedVerified) {
  for (const char* codec : {"jpeg-ls", "j2k", "htj2k"}) {
    PackCodecPolicy p;
    p.default_codec = codec;
    EntryTranscoder t = MakeEntryTranscoder(p).value();
    const std::string original = CtSlice(1);
    Result<TranscodedEntry> e = t.fn(RecordOf(), original);
    ASSERT_TRUE(e.ok()) << codec << ": " << e.status().ToString();
    EXPECT_TRUE(e->lossless_verified) << codec;
    EXPECT_EQ(e->transfer_syntax, CodecSyntax(codec, 0).value());
    EXPECT_LT(e->bytes.size(), original.size());
  }
}

TEST(PackCodecProofTest, BrokenEncoderIsCaughtAndLogged) {
  for (EntryEncoder broken : {EntryEncoder(FlipOnePixelBit), EntryEncoder(TruncateFragment)}) {
    for (const char* codec : {"jpeg-ls", "j2k", "htj2k"}) {
      PackCodecPolicy p;
      p.default_codec = codec;
      EntryTranscoder t = MakeEntryTranscoder(p, broken).value();
      const std::string original = CtSlice(2);
      LogCapture log;
      Result<TranscodedEntry> e = t.fn(RecordOf(), original);
      ASSERT_FALSE(e.ok()) << codec;
      EXPECT_TRUE(IsLosslessProofFailure(e.status())) << e.status().ToString();
      const std::string line = log.text();
      EXPECT_NE(line.find("event=lossless_proof_failed sop=1.2.3 codec=" + std::string(codec) + " reason=\""),
                std::string::npos)
          << line;
    }
  }
}

TEST(PackCodecProofTest, LossyNeedsExplicitConsentAndIsNeverVerified) {
  PackCodecPolicy p;
  p.default_codec = "j2k";
  p.lossy_ratio = 10;
  Result<EntryTranscoder> refused = MakeEntryTranscoder(p);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("lossy_replaces_originals"), std::string::npos);
  p.default_codec = "jpeg-ls";
  p.by_modality["CT"] = "j2k";  // lossy through a per-modality codec is refused as well
  EXPECT_FALSE(MakeEntryTranscoder(p).ok());
  p.lossy_replaces_originals = true;
  EntryTranscoder t = MakeEntryTranscoder(p).value();
  const std::string original = CtSlice(3);
  Result<TranscodedEntry> e = t.fn(RecordOf(), original);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->transfer_syntax, std::string(ts::kJ2k));
  EXPECT_FALSE(e->lossless_verified);
  // lossy_ratio with a lossless-only codec loses nothing and needs no consent.
  PackCodecPolicy q;
  q.default_codec = "htj2k";
  q.lossy_ratio = 10;
  EXPECT_TRUE(MakeEntryTranscoder(q).ok());
}

TEST(PackManifestTest, LosslessVerifiedRoundTripsAndDefaultsToFalse) {
  PackEntry e;
  e.name = "1.2/1.2.3.dcm";
  e.series_instance_uid = "1.2";
  e.sop_instance_uid = "1.2.3";
  e.lossless_verified = true;
  Result<std::string> m = EncodeManifest(nlohmann::json::object(), {e});
  ASSERT_TRUE(m.ok());
  EXPECT_NE(m->find("\"lossless_verified\": true"), std::string::npos) << *m;
  EXPECT_EQ(DecodeManifest(*m).value().entries.at(0), e);
  // A pack written before the field existed.
  nlohmann::json old = nlohmann::json::parse(*m);
  old["entries"][0].erase("lossless_verified");
  EXPECT_FALSE(DecodeManifest(old.dump()).value().entries.at(0).lossless_verified);
  old["entries"][0]["lossless_verified"] = "yes";
  EXPECT_EQ(DecodeManifest(old.dump()).status().code(), Status::Code::kCorruption);
}

// End to end: a migration with an encoder that breaks one instance packs that instance as
// received, the others re-encoded and marked lossless_verified, and reports both counts.
class PackCodecMigrationTest : public TempArchiveTest {
 protected:
  PackCodecMigrationTest() : TempArchiveTest("packcodec") {}
};

TEST_F(PackCodecMigrationTest, FailedProofStoresTheEntryAsReceived) {
  const std::string study = "1.2.826.0.1.3680043.2.1143.77";
  std::vector<std::string> originals;
  for (uint32_t i = 0; i < 3; ++i) {
    originals.push_back(CtSlice(i, study));
    ASSERT_TRUE(archive_->StoreBytes(originals.back()).ok());
  }
  const std::string victim = SopOf(originals[1]);
  ASSERT_FALSE(victim.empty());
  // Broken for the victim only; the others are encoded correctly.
  auto transcoder = std::make_shared<codec::Transcoder>();
  EntryEncoder encoder = [&, transcoder](std::string_view part10, const std::string& target,
                                         const codec::TranscodeOptions& o) -> Result<std::string> {
    if (part10.find(victim) != std::string_view::npos) return FlipOnePixelBit(part10, target, o);
    return transcoder->Transcode(part10, target, o);
  };
  TieringOptions co;
  co.node_id = "test";
  co.transcoder = MakeEntryTranscoder(JpegLs(), encoder).value();
  MigrationScheduler conv(archive_.get(), co);
  LogCapture log;
  Result<MigrationReport> report = conv.RunOnce(study, 0);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->instances, 3u);
  EXPECT_EQ(report->lossless_verified, 2u);
  EXPECT_EQ(report->lossless_proof_failed, 1u);
  EXPECT_NE(log.text().find("event=lossless_proof_failed sop=" + victim + " codec=jpeg-ls reason=\"pixel data differs"),
            std::string::npos)
      << log.text();

  Result<std::vector<InstanceRecord>> records = archive_->Locate(study);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 3u);
  const std::string pack_key = records->front().location.pack_key;
  ASSERT_FALSE(pack_key.empty());
  for (const InstanceRecord& r : *records) {
    ASSERT_EQ(r.location.tier, Location::Tier::kCold) << r.sop_uid;
    Result<std::string> bytes = archive_->Read(r);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    if (r.sop_uid == victim) {
      EXPECT_EQ(StoredSyntax(r), std::string(ts::kExplicitLE));
      EXPECT_EQ(*bytes, originals[1]);  // as received, byte for byte
    } else {
      EXPECT_EQ(StoredSyntax(r), std::string(ts::kJpegLsLossless));
    }
  }
  // The manifest records which entries were proven.
  Result<std::string> pack = archive_->cold()->Get(pack_key);
  ASSERT_TRUE(pack.ok());
  const std::string path = (dir_ / "pack.zip").string();
  std::ofstream(path, std::ios::binary) << *pack;
  Result<PackReader> reader = OpenPackFile(path);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  ASSERT_EQ(reader->manifest().entries.size(), 3u);
  for (const PackEntry& e : reader->manifest().entries) {
    EXPECT_EQ(e.lossless_verified, e.sop_instance_uid != victim) << e.sop_instance_uid;
    EXPECT_EQ(e.transfer_syntax == std::string(ts::kJpegLsLossless), e.sop_instance_uid != victim);
  }
}

// The proof's cost: MB/s (of received bytes) of encoding alone and of encoding plus proof, one
// thread, over the .dcm files under $STRATA_PROOF_BENCH_DIR (e.g. a strata-gen ct series).
// Run by hand: strata_pack_codec_test --gtest_also_run_disabled_tests --gtest_filter=*ProofCost*
TEST(PackCodecBench, DISABLED_ProofCost) {
  const char* dir = std::getenv("STRATA_PROOF_BENCH_DIR");
  ASSERT_NE(dir, nullptr) << "set STRATA_PROOF_BENCH_DIR";
  std::vector<std::string> files;
  uint64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().extension() != ".dcm") continue;
    std::ifstream in(e.path(), std::ios::binary);
    files.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    total += files.back().size();
  }
  ASSERT_FALSE(files.empty());
  codec::Transcoder t;
  for (const char* name : {"jpeg-ls", "j2k", "htj2k"}) {
    const std::string target = CodecSyntax(name, 0).value();
    auto mbps = [&](auto&& fn) {
      const auto t0 = std::chrono::steady_clock::now();
      for (const std::string& f : files) fn(f);
      return total / 1e6 / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    const double encode = mbps([&](const std::string& f) { ASSERT_TRUE(t.Transcode(f, target).ok()); });
    const double both = mbps([&](const std::string& f) {
      Result<std::string> out = t.Transcode(f, target);
      ASSERT_TRUE(out.ok());
      ASSERT_TRUE(codec::ProveTranscode(f, *out, codec::ProofKind::kLossless).ok());
    });
    std::printf("%-8s %zu files %.1f MB: encode %.1f MB/s, encode+proof %.1f MB/s (%.0f%% of encode)\n", name,
                files.size(), total / 1e6, encode, both, 100.0 * both / encode);
  }
}

}  // namespace
}  // namespace strata
