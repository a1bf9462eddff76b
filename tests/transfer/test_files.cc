#include "transfer/test_files.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <vector>

namespace strata::testing {

void WriteTestFile(const std::string& path, const TestFileSpec& spec) {
  DcmFileFormat ff;
  DcmDataset* ds = ff.getDataset();
  ds->putAndInsertString(DCM_SOPClassUID, spec.sop_class.c_str());
  ds->putAndInsertString(DCM_SOPInstanceUID, spec.sop_uid.c_str());
  ds->putAndInsertString(DCM_StudyInstanceUID, "1.2.826.0.1.3680043.10.1337.99.1");
  ds->putAndInsertString(DCM_SeriesInstanceUID, "1.2.826.0.1.3680043.10.1337.99.1.1");
  ds->putAndInsertString(DCM_PatientID, "XFER-TEST");
  ds->putAndInsertString(DCM_StudyDate, "20240101");
  ds->putAndInsertString(DCM_Modality, "CT");
  ds->putAndInsertUint16(DCM_Rows, 4);
  ds->putAndInsertUint16(DCM_Columns, 4);
  ds->putAndInsertUint16(DCM_BitsAllocated, 16);
  ds->putAndInsertUint16(DCM_BitsStored, 16);
  ds->putAndInsertUint16(DCM_HighBit, 15);
  ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
  ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
  ds->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
  DcmXfer xfer(spec.syntax.c_str());
  ASSERT_NE(xfer.getXfer(), EXS_Unknown) << spec.syntax;
  if (xfer.isEncapsulated()) {
    auto* seq = new DcmPixelSequence(DcmTag(DCM_PixelData, EVR_OB));
    seq->insert(new DcmPixelItem(DcmTag(DCM_Item, EVR_OB)));  // empty offset table
    auto* frag = new DcmPixelItem(DcmTag(DCM_Item, EVR_OB));
    std::vector<Uint8> bytes = {0xFF, 0xD8, 1, 2, 3, 4, 0xFF, 0xD9};
    frag->putUint8Array(bytes.data(), static_cast<unsigned long>(bytes.size()));
    seq->insert(frag);
    auto* pd = new DcmPixelData(DCM_PixelData);
    pd->putOriginalRepresentation(xfer.getXfer(), nullptr, seq);
    ds->insert(pd);
  } else {
    std::vector<Uint16> px(16, 1000);
    ds->putAndInsertUint16Array(DCM_PixelData, px.data(), 16);
  }
  OFCondition c = spec.meta_header
                      ? ff.saveFile(path.c_str(), xfer.getXfer())
                      : ff.saveFile(path.c_str(), xfer.getXfer(), EET_ExplicitLength, EGL_recalcGL, EPD_noChange, 0, 0,
                                    EWM_dataset);
  ASSERT_TRUE(c.good()) << path << ": " << c.text();
}

std::string MakeTempDir(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path p = std::filesystem::temp_directory_path() /
                            ("strata-xfer-test-" + std::to_string(getpid())) /
                            (std::string(info->test_suite_name()) + "." + info->name()) / name;
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

}  // namespace strata::testing

namespace {
// Removes this process's temp tree after the last test.
class TempCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::temp_directory_path() /
                                    ("strata-xfer-test-" + std::to_string(getpid())),
                                ec);
  }
};
[[maybe_unused]] auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new TempCleanup);
}  // namespace
