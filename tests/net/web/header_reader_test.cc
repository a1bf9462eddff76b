#include "net/web/header_reader.h"

#include <gtest/gtest.h>

#include <dcmtk/dcmdata/dcdeftag.h>

#include "codec/part10_io.h"
#include "test_files.h"

namespace strata::web {
namespace {

// Offset of the top-level Pixel Data element in BYTES (explicit or implicit LE).
size_t PixelDataOffset(const std::string& bytes) {
  const std::string tag("\xE0\x7F\x10\x00", 4);
  return bytes.rfind(tag);
}

class HeaderExtentTest : public ::testing::TestWithParam<std::pair<E_TransferSyntax, bool>> {};

TEST_P(HeaderExtentTest, StopsAtPixelData) {
  auto ff = testing::MakeImage(8, 8, 2);
  const std::string bytes = testing::ToPart10(*ff, GetParam().first, GetParam().second);
  ASSERT_FALSE(bytes.empty());
  const size_t px = PixelDataOffset(bytes);
  auto whole = FindHeaderExtent(bytes, true);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(whole->kind, HeaderExtent::Kind::kFound);
  EXPECT_EQ(whole->end, px);
  // Every prefix either needs more or finds the same end.
  for (size_t n = 0; n <= px + 4; ++n) {
    auto part = FindHeaderExtent(std::string_view(bytes).substr(0, n), false);
    ASSERT_TRUE(part.ok()) << n;
    if (n < px + 4) ASSERT_EQ(part->kind, HeaderExtent::Kind::kNeedMore) << n;
    else EXPECT_EQ(part->end, px);
  }
  // The prefix parses into the whole header.
  auto parsed = codec::ReadPart10(std::string_view(bytes).substr(0, px));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  DcmDataset* ds = parsed->file->getDataset();
  EXPECT_FALSE(ds->tagExists(DCM_PixelData));
  OFString name;
  EXPECT_TRUE(ds->findAndGetOFString(DCM_PatientName, name).good());
  EXPECT_EQ(std::string(name.c_str()), "Doe^Jane");
  EXPECT_TRUE(ds->tagExists(DCM_ReferencedStudySequence));
}

INSTANTIATE_TEST_SUITE_P(Syntaxes, HeaderExtentTest,
                         ::testing::Values(std::pair{EXS_LittleEndianExplicit, true},
                                           std::pair{EXS_LittleEndianExplicit, false},
                                           std::pair{EXS_LittleEndianImplicit, true},
                                           std::pair{EXS_LittleEndianImplicit, false}));

TEST(HeaderExtentTest, BigEndianIsNotWalked) {
  auto ff = testing::MakeImage(4, 4, 1);
  const std::string bytes = testing::ToPart10(*ff, EXS_BigEndianExplicit);
  auto r = FindHeaderExtent(bytes, true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, HeaderExtent::Kind::kUnwalkable);
}

TEST(HeaderExtentTest, NotDicom) {
  EXPECT_EQ(FindHeaderExtent(std::string(300, 'x'), true).status().code(), Status::Code::kInvalidArgument);
  auto short_prefix = FindHeaderExtent(std::string(50, '\0'), false);
  ASSERT_TRUE(short_prefix.ok());
  EXPECT_EQ(short_prefix->kind, HeaderExtent::Kind::kNeedMore);
}

TEST(MetaInfoTest, ReadsUidsAndSyntax) {
  auto ff = testing::MakeImage(2, 2, 1);
  const std::string bytes = testing::ToPart10(*ff, EXS_LittleEndianExplicit);
  auto m = ParseMetaInfo(bytes);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->sop_instance_uid, "1.2.3.4.5.6.7");
  EXPECT_EQ(m->sop_class_uid, "1.2.840.10008.5.1.4.1.1.7");
  EXPECT_EQ(m->transfer_syntax, "1.2.840.10008.1.2.1");
  EXPECT_TRUE(ParseMetaInfo(std::string_view(bytes).substr(0, 140)).status().IsNotFound());
}

}  // namespace
}  // namespace strata::web
