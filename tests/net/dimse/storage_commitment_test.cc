// CheckCommitment against a real archive (SQLite catalog, hot directory): what is committed
// and with which failure reason the rest fails. The packed case and the wire protocol are in
// tests/integration/test_storage_commitment.py.
#include "../../archive/temp_archive_test.h"
#include "net/dimse/storage_commitment_service.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <filesystem>
#include <fstream>

namespace strata {
namespace {

namespace fs = std::filesystem;
constexpr const char* kSc = "1.2.840.10008.5.1.4.1.1.7";

class StorageCommitmentTest : public TempArchiveTest {
 protected:
  StorageCommitmentTest() : TempArchiveTest("stgcmt") {}
  void Store(const std::string& sop) {
    DcmFileFormat ff;
    DcmDataset* ds = ff.getDataset();
    ASSERT_TRUE(ds->putAndInsertString(DCM_SOPClassUID, kSc).good());
    ASSERT_TRUE(ds->putAndInsertString(DCM_SOPInstanceUID, sop.c_str()).good());
    ASSERT_TRUE(ds->putAndInsertString(DCM_StudyInstanceUID, "1.2.3").good());
    ASSERT_TRUE(ds->putAndInsertString(DCM_SeriesInstanceUID, "1.2.3.1").good());
    ASSERT_TRUE(ds->putAndInsertString(DCM_PatientID, "P1").good());
    ASSERT_TRUE(ds->putAndInsertString(DCM_PatientName, "Commit^Test").good());
    const std::string path = (dir_ / "in.dcm").string();
    ASSERT_TRUE(ff.saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    auto r = archive_->StoreBytes(bytes);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  std::string HotFile(const std::string& sop) {
    auto rec = archive_->catalog()->GetInstance(sop);
    EXPECT_TRUE(rec.ok());
    return archive_->hot()->AbsolutePath(rec.value().location.hot_path);
  }
};

TEST_F(StorageCommitmentTest, CommitsOnlyWhatVerifies) {
  Store("1.2.3.1.1");
  Store("1.2.3.1.2");
  Store("1.2.3.1.3");
  Store("1.2.3.1.4");
  {  // one byte flipped in the last byte of the file (inside the data set)
    std::fstream f(HotFile("1.2.3.1.2"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(-1, std::ios::end);
    char c;
    f.get(c);
    f.seekp(-1, std::ios::end);
    f.put(static_cast<char>(c ^ 0x5a));
  }
  fs::remove(HotFile("1.2.3.1.3"));  // held by the catalog, gone from disk
  CommitmentReport r = CheckCommitment(archive_.get(), "MOD", "9.9", {{kSc, "1.2.3.1.1"},
                                                                      {kSc, "1.2.3.1.2"},
                                                                      {kSc, "1.2.3.1.3"},
                                                                      {kSc, "1.2.3.9.9"},
                                                                      {"1.2.840.10008.5.1.4.1.1.2", "1.2.3.1.4"},
                                                                      {kSc, "1.2.3.1.4"}});
  EXPECT_EQ(r.transaction_uid, "9.9");
  EXPECT_EQ(r.requester_aet, "MOD");
  ASSERT_EQ(r.committed.size(), 2u);
  EXPECT_EQ(r.committed[0].second, "1.2.3.1.1");
  EXPECT_EQ(r.committed[1].second, "1.2.3.1.4");
  ASSERT_EQ(r.failed.size(), 4u);
  EXPECT_EQ(r.failed[0].sop_uid, "1.2.3.1.2");
  EXPECT_EQ(r.failed[0].reason, 0x0110);  // corrupt
  EXPECT_EQ(r.failed[1].sop_uid, "1.2.3.1.3");
  EXPECT_EQ(r.failed[1].reason, 0x0110);  // unreadable
  EXPECT_EQ(r.failed[2].sop_uid, "1.2.3.9.9");
  EXPECT_EQ(r.failed[2].reason, 0x0112);  // unknown
  EXPECT_EQ(r.failed[3].sop_uid, "1.2.3.1.4");
  EXPECT_EQ(r.failed[3].reason, 0x0119);  // another class
  EXPECT_EQ(r.failed[3].sop_class, "1.2.840.10008.5.1.4.1.1.2");  // as the requester named it
}

}  // namespace
}  // namespace strata
