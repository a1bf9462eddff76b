#include <gtest/gtest.h>

#include <filesystem>

#include "util/checksum.h"
#include "util/clock.h"
#include "util/duration.h"
#include "util/file_util.h"
#include "util/strings.h"

namespace strata {

TEST(DurationTest, Units) {
  EXPECT_EQ(ParseDurationMs("0").value(), 0);
  EXPECT_EQ(ParseDurationMs("90s").value(), 90'000);
  EXPECT_EQ(ParseDurationMs("5m").value(), 300'000);
  EXPECT_EQ(ParseDurationMs("7d").value(), 7 * 86'400'000LL);
  EXPECT_EQ(ParseDurationMs("250ms").value(), 250);
  EXPECT_FALSE(ParseDurationMs("5 parsecs").ok());
  EXPECT_FALSE(ParseDurationMs("-1s").ok());
  EXPECT_FALSE(ParseDurationMs("").ok());
}

TEST(ChecksumTest, HexRoundTrip) {
  uint64_t v = Xxh3("hello");
  uint64_t back = 0;
  ASSERT_TRUE(ParseHexU64(HexU64(v), &back));
  EXPECT_EQ(v, back);
  EXPECT_FALSE(ParseHexU64("xyz", &back));
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);  // the CRC-32 check value
  Xxh3Stream s;
  s.Update("hel");
  s.Update("lo");
  EXPECT_EQ(s.Digest(), v);
}

TEST(FileUtilTest, AtomicWriteAndRanges) {
  auto dir = std::filesystem::temp_directory_path() / "strata-util-test";
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(MakeDirs(dir.string()).ok());
  std::string p = (dir / "f").string();
  ASSERT_TRUE(WriteFileAtomic(p, "0123456789").ok());
  EXPECT_EQ(ReadFile(p).value(), "0123456789");
  EXPECT_EQ(ReadFileRange(p, 3, 4).value(), "3456");
  EXPECT_EQ(ReadFileRange(p, 8, 4).status().code(), Status::Code::kCorruption);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);  // no temp left
  EXPECT_TRUE(ReadFile((dir / "missing").string()).status().IsNotFound());
  std::filesystem::remove_all(dir);
}

}  // namespace strata

namespace strata {
namespace {

TEST(SplitComma, FieldsTrimmedEmptiesKept) {
  EXPECT_EQ(SplitComma("a, b ,\tc"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(SplitComma("a,,b,"), (std::vector<std::string>{"a", "", "b", ""}));
  EXPECT_EQ(SplitComma(""), (std::vector<std::string>{""}));
  EXPECT_EQ(SplitComma("one"), (std::vector<std::string>{"one"}));
  EXPECT_EQ(TrimSpaces(" \t x y \t"), "x y");
  EXPECT_EQ(TrimSpaces("   "), "");
}

// The one UTC formatter of the audit log (ISO 8601) and the correction patch (DICOM DT).
TEST(ClockTest, FormatUtcMs) {
  const int64_t ms = 1800000000123;  // 2027-01-15T08:00:00.123Z
  EXPECT_EQ(FormatUtcMs(ms, "%Y-%m-%dT%H:%M:%S", ".%03dZ"), "2027-01-15T08:00:00.123Z");
  EXPECT_EQ(FormatUtcMs(ms, "%Y%m%d%H%M%S", ".%03d000+0000"), "20270115080000.123000+0000");
  EXPECT_EQ(FormatUtcMs(7, "%Y%m%d%H%M%S", ".%03d"), "19700101000000.007");
  EXPECT_EQ(FormatUtcMs(-1, "%Y%m%d%H%M%S", ".%03d"), "19691231235959.999");  // counts back
}

}  // namespace
}  // namespace strata
