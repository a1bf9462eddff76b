// PrefetchReader over a packed study: adjacent entries come back as runs (one ranged read
// each, archive/read_run.h), every instance bit-identical and in order; one corrupt entry
// fails alone (its neighbours in the same run are still served).
#include <gtest/gtest.h>

#include <fstream>

#include "archive/prefetch_reader.h"
#include "archive/read_run.h"
#include "tiering/study_migration.h"
#include "tiering_fixture.h"

namespace strata::testing {
namespace {

const std::string kStudy = "1.2.826.0.1.3680043.10.1337.7";

class PrefetchRunTest : public TwoNodes {
 protected:
  std::vector<InstanceRecord> PackStudy(int images) {
    StoreImages(kStudy, 1, images);
    auto opt = Options("nodeA");
    StudyMigration m(a_.get(), opt, kStudy);
    EXPECT_TRUE(m.Claim().ok());
    EXPECT_TRUE(m.BuildAndUpload().ok());
    EXPECT_TRUE(m.Verify().ok());
    EXPECT_TRUE(m.Switch().ok());
    EXPECT_TRUE(m.DeleteHotCopies().ok());
    auto records = a_->Locate(kStudy);
    EXPECT_TRUE(records.ok());
    return records.ok() ? records.value() : std::vector<InstanceRecord>{};
  }
};

TEST_F(PrefetchRunTest, APackedStudyStreamsInOrderAsRuns) {
  const std::vector<InstanceRecord> records = PackStudy(12);
  ASSERT_EQ(records.size(), 12u);
  for (const auto& r : records) ASSERT_EQ(r.location.tier, Location::Tier::kCold);
  // The test images are small: one run covers the whole study.
  EXPECT_EQ(PackRunLength(records), 12u);
  PrefetchReader reader(a_.get(), records);
  for (const auto& r : records) {
    auto bytes = reader.Next();
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    EXPECT_EQ(bytes.value(), stored_.at(r.sop_uid)) << r.sop_uid;
  }
}

TEST_F(PrefetchRunTest, ACorruptEntryFailsAloneInsideItsRun) {
  const std::vector<InstanceRecord> records = PackStudy(6);
  ASSERT_EQ(records.size(), 6u);
  const InstanceRecord& bad = records[2];
  const auto path = dir_ / "cold" / bad.location.pack_key;
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(bad.location.offset + bad.location.length / 2));
    char c = 0;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(bad.location.offset + bad.location.length / 2));
    f.put(static_cast<char>(c ^ 0x5A));
  }
  PrefetchReader reader(a_.get(), records);
  for (size_t i = 0; i < records.size(); ++i) {
    auto bytes = reader.Next();
    if (i == 2) {
      ASSERT_FALSE(bytes.ok());
      EXPECT_EQ(bytes.status().code(), Status::Code::kCorruption) << bytes.status().ToString();
    } else {
      ASSERT_TRUE(bytes.ok()) << i << ": " << bytes.status().ToString();
      EXPECT_EQ(bytes.value(), stored_.at(records[i].sop_uid));
    }
  }
  // ReadRun directly: the same, one result per record.
  auto results = a_->ReadRun(records);
  ASSERT_EQ(results.size(), records.size());
  for (size_t i = 0; i < results.size(); ++i) EXPECT_EQ(results[i].ok(), i != 2) << i;
}

}  // namespace
}  // namespace strata::testing
