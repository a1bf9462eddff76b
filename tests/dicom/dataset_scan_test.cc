// DatasetScan and CheckPixelEncoding on hand-built byte streams (every syntax the scanner
// walks, truncations, lying lengths, deep nesting) and on files DCMTK writes.
#include "dicom/dataset_scan.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <filesystem>
#include <fstream>

#include "dicom/pixel_encoding.h"
#include "util/checksum.h"

namespace strata {
namespace {

const char* kExplicitLe = "1.2.840.10008.1.2.1";
const char* kImplicitLe = "1.2.840.10008.1.2";
const char* kRle = "1.2.840.10008.1.2.5";
const char* kJpegLs = "1.2.840.10008.1.2.4.80";

// Builds elements in one encoding.
struct Bytes {
  bool explicit_vr = true, big_endian = false;
  std::string b;
  void U16(uint16_t v) {
    if (big_endian) { b += char(v >> 8); b += char(v); } else { b += char(v); b += char(v >> 8); }
  }
  void U32(uint32_t v) {
    if (big_endian) { U16(v >> 16); U16(v & 0xFFFF); } else { U16(v & 0xFFFF); U16(v >> 16); }
  }
  void Tag(uint32_t t) { U16(t >> 16); U16(t & 0xFFFF); }
  void Elem(uint32_t tag, const char* vr, const std::string& value) {
    Tag(tag);
    const bool long_len = std::string("OBODOFOLOVOWSQSVUCUNURUTUV").find(vr) % 2 == 0 &&
                          std::string("OBODOFOLOVOWSQSVUCUNURUTUV").find(vr) != std::string::npos;
    if (explicit_vr) {
      b += vr;
      if (long_len) { U16(0); U32(uint32_t(value.size())); } else { U16(uint16_t(value.size())); }
    } else {
      U32(uint32_t(value.size()));
    }
    b += value;
  }
  void Undefined(uint32_t tag, const char* vr) {
    Tag(tag);
    if (explicit_vr) { b += vr; U16(0); }
    U32(0xFFFFFFFF);
  }
  void Item(uint32_t len = 0xFFFFFFFF) { Tag(0xFFFEE000); U32(len); }
  void ItemEnd() { Tag(0xFFFEE00D); U32(0); }
  void SeqEnd() { Tag(0xFFFEE0DD); U32(0); }
};

std::string Meta(const std::string& ts) {
  Bytes m;
  std::string v = ts;
  if (v.size() % 2) v += '\0';
  m.Elem(0x00020001, "OB", std::string("\0\1", 2));
  m.Elem(0x00020010, "UI", v);
  return std::string(128, '\0') + "DICM" + m.b;
}

// The identity of a small CT image.
void Identity(Bytes& d) {
  d.Elem(0x00080016, "UI", std::string("1.2.840.10008.5.1.4.1.1.2") + '\0');
  d.Elem(0x00080018, "UI", "1.2.3.4.5");  // odd on purpose: values are not checked for padding
  d.Elem(0x0020000D, "UI", "1.2.3.4");
  d.Elem(0x0020000E, "UI", "1.2.3.4.6");
}

class ScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("scan_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& bytes) {
    std::string p = (dir_ / ("f" + std::to_string(n_++) + ".dcm")).string();
    std::ofstream(p, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
    return p;
  }
  Result<DatasetScan> Scan(const std::string& bytes) { return ScanPart10(Env::Default(), Write(bytes)); }
  std::filesystem::path dir_;
  int n_ = 0;
};

std::string NativeImage(const std::string& ts, bool explicit_vr, bool big_endian, size_t pixels) {
  Bytes d;
  d.explicit_vr = explicit_vr;
  d.big_endian = big_endian;
  Identity(d);
  d.Elem(0x00280010, "US", big_endian ? std::string("\0\x10", 2) : std::string("\x10\0", 2));
  d.Elem(0x7FE00010, "OW", std::string(pixels, '\x5A'));
  return Meta(ts) + d.b;
}

TEST_F(ScanTest, NativeExplicitLittleEndian) {
  const std::string meta = Meta(kExplicitLe);
  const std::string f = NativeImage(kExplicitLe, true, false, 4096);
  auto s = Scan(f);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->transfer_syntax, kExplicitLe);
  EXPECT_EQ(s->file_size, f.size());
  EXPECT_EQ(s->dataset_offset, meta.size());
  EXPECT_EQ(s->file_checksum, Xxh3Hex(f));
  EXPECT_EQ(s->dataset_checksum, Xxh3Hex(std::string_view(f).substr(meta.size())));
  EXPECT_EQ(s->pixel_data_offset, f.size() - 4096 - 12);
  EXPECT_EQ(s->pixel.kind, PixelDataInfo::Kind::kNative);
  EXPECT_EQ(s->identity_uids.at(0x00080018), "1.2.3.4.5");
  EXPECT_TRUE(CheckPixelEncoding(kExplicitLe, s->pixel).ok());
}

TEST_F(ScanTest, ImplicitAndBigEndian) {
  auto imp = Scan(NativeImage(kImplicitLe, false, false, 100));
  ASSERT_TRUE(imp.ok()) << imp.status().ToString();
  EXPECT_EQ(imp->pixel.kind, PixelDataInfo::Kind::kNative);
  auto be = Scan(NativeImage("1.2.840.10008.1.2.2", true, true, 100));
  ASSERT_TRUE(be.ok()) << be.status().ToString();
  EXPECT_EQ(be->pixel.kind, PixelDataInfo::Kind::kNative);
  // Little-endian bytes labelled big endian do not walk.
  EXPECT_FALSE(Scan(NativeImage("1.2.840.10008.1.2.2", true, false, 100)).ok());
}

TEST_F(ScanTest, SameDataSetUnderAnotherMetaHeaderHasTheSameDatasetChecksum) {
  const std::string a = NativeImage(kExplicitLe, true, false, 64);
  Bytes extra;
  extra.Elem(0x00020016, "AE", "STOWRS  ");  // SourceApplicationEntityTitle
  std::string b = a;
  b.insert(Meta(kExplicitLe).size(), extra.b);
  auto sa = Scan(a), sb = Scan(b);
  ASSERT_TRUE(sa.ok() && sb.ok());
  EXPECT_NE(sa->file_checksum, sb->file_checksum);
  EXPECT_EQ(sa->dataset_checksum, sb->dataset_checksum);
}

TEST_F(ScanTest, TruncatedInsidePixelDataIsRefused) {
  const std::string f = NativeImage(kExplicitLe, true, false, 100000);
  for (int pct : {20, 50, 90, 99}) {
    auto s = Scan(f.substr(0, f.size() * pct / 100));
    ASSERT_FALSE(s.ok()) << pct << "%";
    EXPECT_EQ(s.status().code(), Status::Code::kInvalidArgument);
  }
  // Cut inside an element header, too.
  EXPECT_FALSE(Scan(f.substr(0, Meta(kExplicitLe).size() + 5)).ok());
}

TEST_F(ScanTest, PixelDataClaimingMoreThanPresentIsRefused) {
  Bytes d;
  Identity(d);
  d.Tag(0x7FE00010);
  d.b += "OB";
  d.U16(0);
  d.U32(0xFFFFFFF1);
  d.b += std::string(10, 'x');
  auto s = Scan(Meta(kExplicitLe) + d.b);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("10 of"), std::string::npos) << s.status().ToString();
}

std::string Nested(int depth, bool explicit_vr) {
  Bytes d;
  d.explicit_vr = explicit_vr;
  Identity(d);
  for (int i = 0; i < depth; ++i) {
    d.Undefined(0x00081115, "SQ");  // ReferencedSeriesSequence
    d.Item();
  }
  d.Elem(0x00100010, "PN", "X^Y ");
  for (int i = 0; i < depth; ++i) {
    d.ItemEnd();
    d.SeqEnd();
  }
  return d.b;
}

TEST_F(ScanTest, DeepNestingIsRefusedShallowAccepted) {
  auto ok = Scan(Meta(kExplicitLe) + Nested(5, true));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->max_depth_seen, 5);
  EXPECT_TRUE(Scan(Meta(kExplicitLe) + Nested(32, true)).ok());
  auto deep = Scan(Meta(kExplicitLe) + Nested(6000, true));
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.status().message().find("nest deeper"), std::string::npos);
  EXPECT_FALSE(Scan(Meta(kImplicitLe) + Nested(6000, false)).ok());
}

TEST_F(ScanTest, DefinedLengthSequencesInImplicitVrCountTowardsTheBound) {
  // The dictionary says (0008,1115) is SQ: DCMTK recurses into it even with a defined length.
  std::string inner = Bytes{false}.b;
  for (int i = 0; i < 40; ++i) {
    Bytes item;
    item.explicit_vr = false;
    item.Item(uint32_t(inner.size()));
    item.b += inner;
    Bytes seq;
    seq.explicit_vr = false;
    seq.Elem(0x00081115, "SQ", item.b);
    inner = seq.b;
  }
  Bytes d;
  d.explicit_vr = false;
  Identity(d);
  auto s = Scan(Meta(kImplicitLe) + d.b + inner);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("nest deeper"), std::string::npos) << s.status().ToString();
}

TEST_F(ScanTest, StructuralErrorsAreRefused) {
  Bytes d;
  Identity(d);
  d.Undefined(0x00081115, "SQ");
  d.Item();
  d.Elem(0x00100010, "PN", "X^Y ");
  EXPECT_FALSE(Scan(Meta(kExplicitLe) + d.b).ok()) << "sequence never closed";
  Bytes e;
  Identity(e);
  e.Item(0);
  EXPECT_FALSE(Scan(Meta(kExplicitLe) + e.b).ok()) << "item outside a sequence";
  Bytes f;
  Identity(f);
  f.Undefined(0x00101010, "OB");
  EXPECT_FALSE(Scan(Meta(kExplicitLe) + f.b).ok()) << "undefined length on a non-sequence";
  Bytes g;
  Identity(g);
  Bytes inner;
  inner.Item(100);  // longer than the sequence holding it
  g.Elem(0x00081115, "SQ", inner.b);
  EXPECT_FALSE(Scan(Meta(kExplicitLe) + g.b).ok());
  EXPECT_FALSE(Scan(std::string(128, '\0') + "DICX").ok());
}

std::string Encapsulated(const std::string& ts, const std::string& fragment) {
  Bytes d;
  Identity(d);
  d.Undefined(0x7FE00010, "OB");
  d.Item(0);  // empty basic offset table
  d.Item(uint32_t(fragment.size()));
  d.b += fragment;
  d.SeqEnd();
  return Meta(ts) + d.b;
}

std::string RleFragment() {
  std::string h(64, '\0');
  h[0] = 1;   // one segment
  h[4] = 64;  // at offset 64
  return h + std::string("\x05\x01\x02\x03\x04\x05\x06\x00", 8);
}

const std::string kJpegLsFrame = std::string("\xFF\xD8\xFF\xF7\x00\x0B\x08\x00\x10\x00\x10\x01\x01\x11\x00", 15);

TEST_F(ScanTest, EncapsulatedPixelDataIsDescribed) {
  auto s = Scan(Encapsulated(kRle, RleFragment()));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->pixel.kind, PixelDataInfo::Kind::kEncapsulated);
  EXPECT_EQ(s->pixel.fragments, 1u);
  EXPECT_EQ(s->pixel.first_fragment, RleFragment());
  EXPECT_TRUE(CheckPixelEncoding(kRle, s->pixel).ok());
  // Missing sequence delimiter.
  std::string cut = Encapsulated(kRle, RleFragment());
  EXPECT_FALSE(Scan(cut.substr(0, cut.size() - 8)).ok());
}

TEST_F(ScanTest, EncodingMustFitTheTransferSyntax) {
  auto native = Scan(NativeImage(kRle, true, false, 128));
  ASSERT_TRUE(native.ok());
  Status s = CheckPixelEncoding(kRle, native->pixel);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("native"), std::string::npos);

  auto ls = Scan(Encapsulated(kRle, kJpegLsFrame + std::string(17, '\0')));
  ASSERT_TRUE(ls.ok());
  EXPECT_FALSE(CheckPixelEncoding(kRle, ls->pixel).ok()) << "JPEG-LS under RLE";
  EXPECT_TRUE(CheckPixelEncoding(kJpegLs, ls->pixel).ok());
  EXPECT_FALSE(CheckPixelEncoding("1.2.840.10008.1.2.4.50", ls->pixel).ok()) << "JPEG-LS under JPEG baseline";
  EXPECT_FALSE(CheckPixelEncoding(kExplicitLe, ls->pixel).ok()) << "encapsulated under a native syntax";

  auto rle = Scan(Encapsulated(kJpegLs, RleFragment()));
  ASSERT_TRUE(rle.ok());
  EXPECT_FALSE(CheckPixelEncoding(kJpegLs, rle->pixel).ok()) << "RLE under JPEG-LS";
  EXPECT_FALSE(CheckPixelEncoding("1.2.840.10008.1.2.4.90", rle->pixel).ok()) << "RLE under JPEG 2000";

  PixelDataInfo j2k;
  j2k.kind = PixelDataInfo::Kind::kEncapsulated;
  j2k.first_fragment = std::string("\xFF\x4F\xFF\x51\x00\x29", 6);
  j2k.first_fragment_length = 1000;
  EXPECT_TRUE(CheckPixelEncoding("1.2.840.10008.1.2.4.90", j2k).ok());
  EXPECT_TRUE(CheckPixelEncoding("1.2.840.10008.1.2.4.201", j2k).ok());

  PixelDataInfo bad_rle = rle->pixel;
  bad_rle.first_fragment = RleFragment();
  bad_rle.first_fragment[4] = 60;  // first offset must be 64
  EXPECT_FALSE(CheckPixelEncoding(kRle, bad_rle).ok());
}

// Files as DCMTK writes them, in every syntax the scanner inflates or swaps.
TEST_F(ScanTest, FilesWrittenByDcmtk) {
  for (E_TransferSyntax xfer : {EXS_LittleEndianImplicit, EXS_LittleEndianExplicit, EXS_BigEndianExplicit,
                                EXS_DeflatedLittleEndianExplicit}) {
    DcmFileFormat ff;
    DcmDataset* ds = ff.getDataset();
    ASSERT_TRUE(ds->putAndInsertString(DCM_SOPClassUID, "1.2.840.10008.5.1.4.1.1.7").good());
    ASSERT_TRUE(ds->putAndInsertString(DCM_SOPInstanceUID, "1.2.3.9").good());
    ASSERT_TRUE(ds->putAndInsertString(DCM_StudyInstanceUID, "1.2.3").good());
    ASSERT_TRUE(ds->putAndInsertString(DCM_SeriesInstanceUID, "1.2.3.1").good());
    DcmItem* item = nullptr;
    ASSERT_TRUE(ds->findOrCreateSequenceItem(DCM_ReferencedSeriesSequence, item, -2).good());
    ASSERT_TRUE(item->putAndInsertString(DCM_SeriesInstanceUID, "1.2.3.2").good());
    ASSERT_TRUE(ds->putAndInsertUint16(DCM_Rows, 8).good());
    std::vector<Uint16> px(64, 0x1234);
    ASSERT_TRUE(ds->putAndInsertUint16Array(DCM_PixelData, px.data(), 64).good());
    const std::string path = (dir_ / ("dcmtk" + std::to_string(int(xfer)) + ".dcm")).string();
    ASSERT_TRUE(ff.saveFile(path.c_str(), xfer).good());
    auto s = ScanPart10(Env::Default(), path);
    ASSERT_TRUE(s.ok()) << DcmXfer(xfer).getXferName() << ": " << s.status().ToString();
    EXPECT_EQ(s->max_depth_seen, 1);
    EXPECT_EQ(s->file_size, std::filesystem::file_size(path));
    if (xfer != EXS_DeflatedLittleEndianExplicit) {
      EXPECT_EQ(s->pixel.kind, PixelDataInfo::Kind::kNative);
      EXPECT_EQ(s->pixel_data_offset, s->file_size - 128 - 12 + (xfer == EXS_LittleEndianImplicit ? 4 : 0));
    } else {
      EXPECT_EQ(s->pixel.kind, PixelDataInfo::Kind::kNative);
      EXPECT_EQ(s->pixel_data_offset, s->file_size);
      // A deflated file cut short.
      std::ifstream in(path, std::ios::binary);
      std::string all((std::istreambuf_iterator<char>(in)), {});
      EXPECT_FALSE(Scan(all.substr(0, all.size() - 20)).ok());
    }
  }
}

// No input takes the scanner down: truncations and byte flips of valid files in every
// syntax end in a result or an InvalidArgument, never a crash or a hang.
TEST_F(ScanTest, MutatedInputsNeverCrash) {
  std::vector<std::string> seeds = {NativeImage(kExplicitLe, true, false, 512), NativeImage(kImplicitLe, false, false, 512),
                                    NativeImage("1.2.840.10008.1.2.2", true, true, 512),
                                    Encapsulated(kRle, RleFragment()), Meta(kExplicitLe) + Nested(8, true)};
  uint64_t x = 0x9E3779B97F4A7C15ull;
  auto next = [&] { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x; };
  int refused = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string f = seeds[i % seeds.size()];
    const int flips = 1 + int(next() % 4);
    for (int k = 0; k < flips; ++k) f[132 + next() % (f.size() - 132)] = char(next());
    if (next() % 3 == 0) f.resize(132 + next() % (f.size() - 132));
    const std::string path = Write(f);
    auto r = ScanPart10(Env::Default(), path);
    std::filesystem::remove(path);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << r.status().ToString();
      ++refused;
    } else {
      EXPECT_EQ(r->file_size, f.size());
    }
  }
  EXPECT_GT(refused, 1000);
}

}  // namespace
}  // namespace strata
