#include "tiering_fixture.h"

#include <atomic>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>

namespace strata::testing {
namespace {

std::unique_ptr<Archive> OpenNode(const std::filesystem::path& dir, const std::string& node) {
  ArchiveOptions o;
  o.hot_dir = (dir / "hot").string();
  o.node_id = node;
  o.catalog.url = "sqlite:" + (dir / "c.db").string();
  o.cold.url = "file:" + (dir / "cold").string();
  auto a = Archive::Open(o);
  EXPECT_TRUE(a.ok()) << a.status().ToString();
  return a.ok() ? std::move(a).value() : nullptr;
}

}  // namespace

void TwoNodes::SetUp() {
  static std::atomic<int> counter{0};
  dir_ = std::filesystem::temp_directory_path() /
         ("strata-tier-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  a_ = OpenNode(dir_, "nodeA");
  b_ = OpenNode(dir_, "nodeB");
  ASSERT_TRUE(a_ && b_);
}

void TwoNodes::TearDown() {
  a_.reset();
  b_.reset();
  std::filesystem::remove_all(dir_);
}

TieringOptions TwoNodes::Options(const std::string& node, int64_t lease_ms) {
  TieringOptions o;
  o.node_id = node;
  o.lease_ms = lease_ms;
  o.orphan_grace_ms = 0;
  o.part_size = 1;  // the store's minimum: several parts even for small packs
  return o;
}

void TwoNodes::StoreImages(const std::string& study, int series, int count) {
  for (int k = 0; k < count; ++k) {
    const int n = next_instance_++;
    const std::string series_uid = study + "." + std::to_string(series);
    const std::string sop = series_uid + "." + std::to_string(n);
    DcmFileFormat ff;
    DcmDataset* ds = ff.getDataset();
    ds->putAndInsertString(DCM_SOPClassUID, UID_SecondaryCaptureImageStorage);
    ds->putAndInsertString(DCM_SOPInstanceUID, sop.c_str());
    ds->putAndInsertString(DCM_StudyInstanceUID, study.c_str());
    ds->putAndInsertString(DCM_SeriesInstanceUID, series_uid.c_str());
    ds->putAndInsertString(DCM_PatientID, "P1");
    ds->putAndInsertString(DCM_PatientName, "Doe^Jane");
    ds->putAndInsertString(DCM_Modality, "OT");
    ds->putAndInsertString(DCM_InstanceNumber, std::to_string(n).c_str());
    ds->putAndInsertUint16(DCM_Rows, 8);
    ds->putAndInsertUint16(DCM_Columns, 8);
    ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
    ds->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
    ds->putAndInsertUint16(DCM_BitsAllocated, 16);
    ds->putAndInsertUint16(DCM_BitsStored, 16);
    ds->putAndInsertUint16(DCM_HighBit, 15);
    ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
    std::vector<Uint16> px(64);
    for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<Uint16>(n * 100 + i);
    ds->putAndInsertUint16Array(DCM_PixelData, px.data(), px.size());
    const std::string path = a_->NewIncomingPath();
    ASSERT_TRUE(ff.saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
    std::string bytes;
    {
      FILE* f = std::fopen(path.c_str(), "rb");
      ASSERT_NE(f, nullptr);
      char buf[4096];
      for (size_t got; (got = std::fread(buf, 1, sizeof buf, f)) > 0;) bytes.append(buf, got);
      std::fclose(f);
    }
    auto r = a_->StoreFile(path);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    stored_[sop] = bytes;
  }
}

void TwoNodes::ExpectAllReadable() {
  for (const auto& [sop, bytes] : stored_) {
    for (Archive* node : {a_.get(), b_.get()}) {
      auto rec = node->catalog()->GetInstance(sop);
      ASSERT_TRUE(rec.ok()) << sop << ": " << rec.status().ToString();
      auto got = node->Read(*rec);
      ASSERT_TRUE(got.ok()) << sop << ": " << got.status().ToString();
      EXPECT_TRUE(*got == bytes) << sop << " differs";
    }
  }
}

std::vector<std::string> TwoNodes::ColdObjects() {
  std::vector<std::string> out;
  auto l = a_->cold()->List("packs/");
  EXPECT_TRUE(l.ok());
  if (l.ok())
    for (const auto& o : *l) out.push_back(o.key);
  return out;
}

std::vector<std::string> TwoNodes::PackRows() {
  std::vector<std::string> out;
  auto p = a_->catalog()->ListPacks("");
  EXPECT_TRUE(p.ok());
  if (p.ok())
    for (const auto& r : *p) out.push_back(r.pack_key);
  return out;
}

size_t TwoNodes::PendingUploads() {
  auto p = a_->cold()->ListPendingUploads("");
  EXPECT_TRUE(p.ok());
  return p.ok() ? p->size() : 0;
}

}  // namespace strata::testing
