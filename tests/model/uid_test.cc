#include "model/uid.h"

#include <gtest/gtest.h>

namespace strata {

TEST(UidTest, AcceptsWellFormedUids) {
  EXPECT_TRUE(IsValidUid("1.2.840.10008.1.2.1"));
  EXPECT_TRUE(IsValidUid("0"));
  EXPECT_TRUE(IsValidUid("1.0.2"));
  EXPECT_TRUE(IsValidUid(std::string(64, '1')));
}

TEST(UidTest, RejectsMalformedUids) {
  EXPECT_FALSE(IsValidUid(""));
  EXPECT_FALSE(IsValidUid(std::string(65, '1')));
  EXPECT_FALSE(IsValidUid("1..2"));
  EXPECT_FALSE(IsValidUid(".1.2"));
  EXPECT_FALSE(IsValidUid("1.2."));
  EXPECT_FALSE(IsValidUid("1.02.3"));
  EXPECT_FALSE(IsValidUid("1.2.a"));
  EXPECT_FALSE(IsValidUid("../../etc/passwd"));
  EXPECT_FALSE(IsValidUid("1.2/3"));
  EXPECT_FALSE(IsValidUid("1.2 3"));
  EXPECT_FALSE(IsValidUid("1.2\\3"));
  EXPECT_FALSE(IsValidUid("1.2%00"));
}

TEST(UidTest, ErrorSaysWhatIsWrong) {
  Status s = ValidateUid("1.2.x", "StudyInstanceUID");
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("StudyInstanceUID"), std::string::npos);
}

TEST(UidTest, TrimRemovesPadding) {
  EXPECT_EQ(TrimUid(std::string("1.2.3\0", 6)), "1.2.3");
  EXPECT_EQ(TrimUid("1.2.3 "), "1.2.3");
  // Only trailing padding goes: a UID with a leading or inner space stays invalid.
  EXPECT_EQ(TrimUid(" 1.2.3"), " 1.2.3");
  EXPECT_EQ(TrimUid("1.2 3.4 "), "1.2 3.4");
  EXPECT_FALSE(IsValidUid(TrimUid("1.2 3.4")));
}

}  // namespace strata
