// MigrationScheduler pieces that need no network: the off-peak window, codec names, and Cleanup()
// removing what an interrupted migration leaves behind.
#include "../archive/temp_archive_test.h"
#include "tiering/migration_scheduler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "tiering/pack_codec.h"

namespace strata {
namespace {

TEST(MigrationSchedulerWindowTest, PlainAndWrappingWindows) {
  EXPECT_TRUE(MigrationScheduler::InWindow("", 0));
  EXPECT_TRUE(MigrationScheduler::InWindow("01:00-05:00", 60));
  EXPECT_FALSE(MigrationScheduler::InWindow("01:00-05:00", 300));
  EXPECT_TRUE(MigrationScheduler::InWindow("22:00-06:00", 23 * 60));
  EXPECT_TRUE(MigrationScheduler::InWindow("22:00-06:00", 5 * 60 + 59));
  EXPECT_FALSE(MigrationScheduler::InWindow("22:00-06:00", 12 * 60));
}

TEST(PackCodecTest, NamesMapToSyntaxes) {
  EXPECT_EQ(CodecSyntax("none", 0).value(), "");
  EXPECT_EQ(CodecSyntax("jpeg-ls", 0).value(), "1.2.840.10008.1.2.4.80");
  EXPECT_EQ(CodecSyntax("j2k", 0).value(), "1.2.840.10008.1.2.4.90");
  EXPECT_EQ(CodecSyntax("j2k", 10).value(), "1.2.840.10008.1.2.4.91");  // lossy only on request
  EXPECT_EQ(CodecSyntax("htj2k", 0).value(), "1.2.840.10008.1.2.4.201");
  EXPECT_FALSE(CodecSyntax("gzip", 0).ok());
  PackCodecPolicy p;
  p.by_modality["CT"] = "zip";
  EXPECT_FALSE(MakeEntryTranscoder(p).ok());
  p.by_modality["CT"] = "none";
  EXPECT_FALSE(static_cast<bool>(MakeEntryTranscoder(p).value().fn));  // nothing to do
}

class CleanupTest : public TempArchiveTest {
 protected:
  CleanupTest() : TempArchiveTest("conv") {}
};

TEST_F(CleanupTest, RemovesUnreferencedPacksAndPendingUploads) {
  ColdStore* cold = archive_->cold();
  ASSERT_TRUE(cold->Put("packs/aa/1.2.3/1-dead.zip", "orphan pack").ok());
  auto up = cold->StartUpload("packs/bb/1.2.4/2-dead.zip");
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->PutPart(1, std::string(1024, 'x')).ok());
  // A crash: the upload object is never completed. Releasing the handle aborts by contract,
  // so simulate the crash by leaking it.
  (void)up.value().release();
  ASSERT_FALSE(cold->ListPendingUploads("").value().empty());
  TieringOptions co;
  co.node_id = "test";
  co.orphan_grace_ms = 0;  // the leftovers are old enough now
  MigrationScheduler conv(archive_.get(), co);
  ASSERT_TRUE(conv.Cleanup().ok());
  EXPECT_TRUE(cold->List("packs/").value().empty());
  EXPECT_TRUE(cold->ListPendingUploads("").value().empty());
}

}  // namespace
}  // namespace strata
