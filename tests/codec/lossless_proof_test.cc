// ProveTranscode: real transcodes pass it (synthetic layouts with each codec, the pydicom
// samples), and every kind of broken result fails it with a reason naming the difference.
#include "codec/lossless_proof.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>

#include "codec/encapsulation.h"
#include "codec/part10_io.h"
#include "codec/synthetic_image.h"
#include "codec/transcoder.h"
#include "codec_test_util.h"

namespace strata::codec {
namespace {

using testing::kPydicomDir;
using testing::PixelItems;
using testing::ReadFileBytes;

const std::string kCodecs[] = {std::string(ts::kJpegLsLossless), std::string(ts::kJ2kLossless),
                               std::string(ts::kHtj2kLossless)};

SyntheticSpec Spec(uint32_t alloc, uint32_t stored, bool sgn, const char* pi, uint32_t frames = 1, uint32_t spp = 1,
                   uint32_t planar = 0) {
  SyntheticSpec s;
  s.rows = 37;
  s.columns = 41;
  s.bits_allocated = alloc;
  s.bits_stored = stored;
  s.is_signed = sgn;
  s.photometric = pi;
  s.frames = frames;
  s.samples_per_pixel = spp;
  s.planar_configuration = planar;
  s.pattern = Pattern::kRandom;
  s.seed = alloc * 131 + stored * 7 + (sgn ? 3 : 0) + frames * 11 + spp + planar * 5;
  return s;
}

const SyntheticSpec kLayouts[] = {
    Spec(8, 8, false, "MONOCHROME2"),         Spec(8, 8, true, "MONOCHROME2"),
    Spec(16, 12, false, "MONOCHROME2"),       Spec(16, 12, true, "MONOCHROME2"),
    Spec(16, 16, false, "MONOCHROME1"),       Spec(16, 16, true, "MONOCHROME2"),
    Spec(16, 12, false, "MONOCHROME2", 4),    Spec(8, 8, false, "RGB", 1, 3, 0),
    Spec(8, 8, false, "RGB", 3, 3, 1),        Spec(8, 8, false, "YBR_FULL", 1, 3, 0),
    Spec(8, 8, false, "PALETTE COLOR"),
};

// Parses `part10`, lets `edit` change it, and writes it back in its own syntax.
std::string Edited(const std::string& part10, const std::function<void(DcmFileFormat&)>& edit) {
  Result<Part10File> f = ReadPart10(part10);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  if (!f.ok()) return {};
  edit(*f->file);
  Result<std::string> out = WritePart10(*f->file, *f->syntax);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : std::string();
}

std::string MetaSyntaxOf(const std::string& part10) { return PeekTransferSyntax(part10).value(); }

// `part10` with its encapsulated frames replaced by `change(frames)`.
std::string WithFrames(const std::string& part10, const std::function<void(std::vector<std::string>&)>& change) {
  Result<std::vector<std::string>> items = PixelItems(part10);
  EXPECT_TRUE(items.ok()) << items.status().ToString();
  if (!items.ok()) return {};
  std::vector<std::string> frames(items->begin() + 1, items->end());  // one fragment per frame
  change(frames);
  return Edited(part10, [&](DcmFileFormat& f) {
    DcmElement* e = nullptr;
    ASSERT_TRUE(f.getDataset()->findAndGetElement(DCM_PixelData, e).good());
    const SyntaxInfo* s = FindSyntax(MetaSyntaxOf(part10));
    ASSERT_NE(s, nullptr);
    ASSERT_TRUE(PutEncapsulatedFrames(*static_cast<DcmPixelData*>(e), s->dcmtk_xfer, frames).ok());
  });
}

class LosslessProofTest : public ::testing::Test {
 protected:
  std::string Original(const SyntheticSpec& spec = Spec(16, 12, false, "MONOCHROME2", 3)) {
    Result<std::string> b = MakeSyntheticPart10(spec);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? *b : std::string();
  }
  std::string Encode(const std::string& original, const std::string& target) {
    Result<std::string> out = t_.Transcode(original, target);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : std::string();
  }
  Transcoder t_;
};

TEST_F(LosslessProofTest, EverySyntheticLayoutPassesWithEachCodec) {
  for (const SyntheticSpec& spec : kLayouts) {
    const std::string original = Original(spec);
    for (const std::string& target : kCodecs) {
      Result<std::string> encoded = t_.Transcode(original, target);
      ASSERT_TRUE(encoded.ok()) << spec.photometric << " " << target << ": " << encoded.status().ToString();
      Status proof = ProveTranscode(original, *encoded, ProofKind::kLossless);
      EXPECT_TRUE(proof.ok()) << spec.photometric << " " << spec.bits_stored << " bits, planar "
                              << spec.planar_configuration << ", " << target << ": " << proof.ToString();
    }
  }
}

TEST_F(LosslessProofTest, ImplicitVrOriginalPasses) {
  const std::string implicit = Encode(Original(), std::string(ts::kImplicitLE));
  for (const std::string& target : kCodecs) {
    EXPECT_TRUE(ProveTranscode(implicit, Encode(implicit, target), ProofKind::kLossless).ok()) << target;
  }
}

// The real thing: every pydicom sample our codecs accept passes the proof with each of them.
TEST_F(LosslessProofTest, PydicomSamplesPassWithEachCodec) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(kPydicomDir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".dcm") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty()) << "no samples in " << kPydicomDir << " (apt-get install python3-pydicom)";
  int proven = 0;
  std::set<std::string> names;
  for (const std::string& path : files) {
    const std::string bytes = ReadFileBytes(path);
    for (const std::string& target : kCodecs) {
      Result<std::string> encoded = t_.Transcode(bytes, target);
      if (!encoded.ok() || *encoded == bytes) continue;  // refused (lossy, odd layout...) or already there
      Status proof = ProveTranscode(bytes, *encoded, ProofKind::kLossless);
      EXPECT_TRUE(proof.ok()) << path << " -> " << target << ": " << proof.ToString();
      if (proof.ok()) {
        ++proven;
        names.insert(std::filesystem::path(path).filename().string());
      }
    }
  }
  std::printf("  %d sample transcodes proven lossless:", proven);
  for (const std::string& n : names) std::printf(" %s", n.c_str());
  std::printf("\n");
  // Debian's python3-pydicom ships a subset of upstream's files; these cover 8/16 bit, signed,
  // big endian, implicit VR, deflate, RLE sources, RGB, odd sizes and multi-frame.
  for (const char* must : {"CT_small.dcm", "MR_small.dcm", "MR_small_RLE.dcm", "MR_small_bigendian.dcm",
                           "MR_small_implicit.dcm", "image_dfl.dcm", "SC_rgb_rle.dcm", "SC_rgb_rle_16bit_2frame.dcm",
                           "SC_rgb_small_odd.dcm", "J2K_pixelrep_mismatch.dcm"}) {
    EXPECT_TRUE(names.contains(must)) << must << " was not proven";
  }
}

// A valid codestream of slightly different pixels: what a buggy encoder would produce.
TEST_F(LosslessProofTest, OnePixelBitFlippedBeforeEncodingFails) {
  const std::string original = Original();
  const std::string flipped = Edited(original, [](DcmFileFormat& f) {
    DcmElement* e = nullptr;
    ASSERT_TRUE(f.getDataset()->findAndGetElement(DCM_PixelData, e).good());
    Uint8* p = nullptr;
    ASSERT_TRUE(e->getUint8Array(p).good());
    p[37 * 41 * 2 + 100] ^= 0x01;  // frame 2
  });
  for (const std::string& target : kCodecs) {
    Status proof = ProveTranscode(original, Encode(flipped, target), ProofKind::kLossless);
    ASSERT_FALSE(proof.ok()) << target;
    EXPECT_EQ(proof.code(), Status::Code::kCorruption);
    EXPECT_NE(proof.message().find("pixel data differs in frame 2"), std::string::npos) << proof.message();
  }
}

TEST_F(LosslessProofTest, TruncatedOrCorruptFragmentFails) {
  const std::string original = Original();
  for (const std::string& target : kCodecs) {
    const std::string encoded = Encode(original, target);
    const std::string truncated = WithFrames(encoded, [](auto& frames) { frames[1].resize(frames[1].size() / 2); });
    EXPECT_FALSE(ProveTranscode(original, truncated, ProofKind::kLossless).ok()) << target;
    const std::string garbled = WithFrames(encoded, [](auto& frames) {
      std::string& f = frames[2];
      for (size_t i = f.size() / 2; i < f.size() / 2 + 8; ++i) f[i] = static_cast<char>(f[i] ^ 0x5a);
    });
    EXPECT_FALSE(ProveTranscode(original, garbled, ProofKind::kLossless).ok()) << target;
    const std::string dropped = WithFrames(encoded, [](auto& frames) { frames.pop_back(); });
    EXPECT_FALSE(ProveTranscode(original, dropped, ProofKind::kLossless).ok()) << target;
    // Unchanged frames rebuilt the same way still pass: the edits above are what fails.
    EXPECT_TRUE(ProveTranscode(original, WithFrames(encoded, [](auto&) {}), ProofKind::kLossless).ok()) << target;
  }
}

TEST_F(LosslessProofTest, ChangedAddedOrRemovedAttributeFails) {
  const std::string original = Original();
  const std::string encoded = Encode(original, std::string(ts::kJpegLsLossless));
  auto prove = [&](const std::function<void(DcmFileFormat&)>& edit) {
    return ProveTranscode(original, Edited(encoded, edit), ProofKind::kLossless);
  };
  Status st = prove([](DcmFileFormat& f) { f.getDataset()->putAndInsertString(DCM_PatientName, "Other^Name"); });
  EXPECT_NE(st.message().find("(0010,0010) PatientName differs"), std::string::npos) << st.ToString();
  st = prove([](DcmFileFormat& f) { f.getDataset()->putAndInsertString(DCM_StudyDescription, "added"); });
  EXPECT_NE(st.message().find("StudyDescription was added"), std::string::npos) << st.ToString();
  st = prove([](DcmFileFormat& f) { f.getDataset()->findAndDeleteElement(DCM_ImageComments); });
  EXPECT_NE(st.message().find("ImageComments is missing"), std::string::npos) << st.ToString();
  st = prove([](DcmFileFormat& f) { f.getDataset()->putAndInsertString(DCM_LossyImageCompression, "01"); });
  EXPECT_NE(st.message().find("LossyImageCompression"), std::string::npos) << st.ToString();
  st = prove([](DcmFileFormat& f) { f.getDataset()->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME1"); });
  EXPECT_NE(st.message().find("Photometric Interpretation MONOCHROME2 became MONOCHROME1"), std::string::npos)
      << st.ToString();
  st = prove([](DcmFileFormat& f) { f.getDataset()->putAndInsertUint16(DCM_BitsStored, 16); });
  EXPECT_FALSE(st.ok());
  // A meta header naming another instance (the UID's last digit changed in place).
  std::string wrong_meta = encoded;
  const std::string sop = testing::GetString(encoded, 0x0008, 0x0018);
  const size_t at = wrong_meta.find(sop);
  ASSERT_LT(at, 300u);  // inside the meta header
  wrong_meta[at + sop.size() - 1] = wrong_meta[at + sop.size() - 1] == '1' ? '2' : '1';
  st = ProveTranscode(original, wrong_meta, ProofKind::kLossless);
  EXPECT_NE(st.message().find("MediaStorageSOPInstanceUID"), std::string::npos) << st.ToString();
  EXPECT_TRUE(prove([](DcmFileFormat&) {}).ok());
}

TEST_F(LosslessProofTest, NotCompressedOrLossyResultFailsTheLosslessProof) {
  const std::string original = Original(Spec(8, 8, false, "RGB", 1, 3, 0));
  EXPECT_FALSE(ProveTranscode(original, original, ProofKind::kLossless).ok());  // native is no encoding
  EXPECT_FALSE(ProveTranscode(original, "not dicom", ProofKind::kLossless).ok());
  TranscodeOptions lossy;
  lossy.allow_lossy = true;
  lossy.j2k_lossy_ratio = 20;
  Result<std::string> j2k = t_.Transcode(original, std::string(ts::kJ2k), lossy);
  ASSERT_TRUE(j2k.ok()) << j2k.status().ToString();
  EXPECT_FALSE(ProveTranscode(original, *j2k, ProofKind::kLossless).ok());
  // As lossy it decodes and keeps every other attribute.
  EXPECT_TRUE(ProveTranscode(original, *j2k, ProofKind::kLossy).ok())
      << ProveTranscode(original, *j2k, ProofKind::kLossy).ToString();
  // A lossless result is not a lossy one.
  EXPECT_FALSE(ProveTranscode(original, Encode(original, std::string(ts::kJ2kLossless)), ProofKind::kLossy).ok());
}

}  // namespace
}  // namespace strata::codec
