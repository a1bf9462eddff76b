#include "net/dimse/identifier_reader.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

std::string Nested(int depth) {
  // (0008,1115) SQ undefined length, then an item of undefined length, DEPTH times (implicit LE).
  const std::string open("\x08\x00\x15\x11\xff\xff\xff\xff\xfe\xff\x00\xe0\xff\xff\xff\xff", 16);
  std::string s;
  for (int i = 0; i < depth; ++i) s += open;
  return s;
}

TEST(CheckIdentifierBytes, SmallIdentifierPasses) {
  EXPECT_TRUE(CheckIdentifierBytes(Nested(3), false, 1 << 20, 256).ok());
  EXPECT_TRUE(CheckIdentifierBytes(std::string("\x08\x00\x52\x00\x06\x00\x00\x00STUDY ", 14), false, 64, 0).ok());
}

TEST(CheckIdentifierBytes, DeepNestingRefused) {
  Status s = CheckIdentifierBytes(Nested(6000), false, 1 << 20, 256);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("6000 sequence items"), std::string::npos) << s.message();
  EXPECT_TRUE(CheckIdentifierBytes(Nested(256), false, 1 << 20, 256).ok());
  EXPECT_FALSE(CheckIdentifierBytes(Nested(257), false, 1 << 20, 256).ok());
}

TEST(CheckIdentifierBytes, BigEndianItemsCount) {
  std::string be;
  for (int i = 0; i < 10; ++i) be += std::string("\xff\xfe\xe0\x00\xff\xff\xff\xff", 8);
  EXPECT_FALSE(CheckIdentifierBytes(be, false, 1 << 20, 9).ok());
}

TEST(CheckIdentifierBytes, SizeBound) {
  EXPECT_FALSE(CheckIdentifierBytes(std::string(100, 'a'), false, 99, 256).ok());
  EXPECT_FALSE(CheckIdentifierBytes(std::string(10, 'a'), true, 99, 256).ok());  // overflowed while receiving
}

}  // namespace
}  // namespace strata
