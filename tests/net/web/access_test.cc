#include "net/web/access.h"
#include "util/base64.h"

#include <gtest/gtest.h>

namespace strata::web {
namespace {

TEST(AccessTest, NoAuth) {
  auto p = AccessPolicy::Parse("", {});
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->Authorized(""));
  EXPECT_EQ(p->Challenge(), "");
  EXPECT_FALSE(p->cors_enabled());
  EXPECT_FALSE(p->OriginAllowed("http://a"));
}

TEST(AccessTest, Bearer) {
  auto p = AccessPolicy::Parse("bearer:s3cret", {});
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->Authorized("Bearer s3cret"));
  EXPECT_TRUE(p->Authorized("bearer s3cret"));
  EXPECT_FALSE(p->Authorized("Bearer s3cre"));
  EXPECT_FALSE(p->Authorized("Bearer s3cret2"));
  EXPECT_FALSE(p->Authorized(""));
  EXPECT_FALSE(p->Authorized("Basic czNjcmV0"));
  EXPECT_EQ(p->Challenge(), "Bearer realm=\"strata\"");
}

TEST(AccessTest, Basic) {
  auto p = AccessPolicy::Parse("basic:ann:pa:ss", {});
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->Authorized("Basic YW5uOnBhOnNz"));  // ann:pa:ss
  EXPECT_FALSE(p->Authorized("Basic YW5uOnBhOnN0"));  // ann:pa:st
  EXPECT_FALSE(p->Authorized("Basic !!!"));
  EXPECT_FALSE(p->Authorized("Bearer ann:pa:ss"));
  EXPECT_NE(p->Challenge().find("Basic"), std::string::npos);
}

TEST(AccessTest, RejectsMalformedSettings) {
  EXPECT_FALSE(AccessPolicy::Parse("bearer:", {}).ok());
  EXPECT_FALSE(AccessPolicy::Parse("basic:nocolon", {}).ok());
  EXPECT_FALSE(AccessPolicy::Parse("token", {}).ok());
}

TEST(AccessTest, Cors) {
  auto p = AccessPolicy::Parse("", {" http://viewer.example ", ""});
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->cors_enabled());
  EXPECT_TRUE(p->OriginAllowed("http://viewer.example"));
  EXPECT_FALSE(p->OriginAllowed("http://evil.example"));
  EXPECT_FALSE(p->OriginAllowed(""));
  auto any = AccessPolicy::Parse("", {"*"});
  EXPECT_TRUE(any->OriginAllowed("http://anything"));
}

TEST(AccessTest, Base64) {
  EXPECT_EQ(Base64Decode("YW5uOnBhOnNz").value(), "ann:pa:ss");
  EXPECT_EQ(Base64Decode("YQ==").value(), "a");
  EXPECT_EQ(Base64Decode("YWI=").value(), "ab");
  EXPECT_FALSE(Base64Decode("Y").ok());
  EXPECT_FALSE(Base64Decode("a*b=").ok());
}

}  // namespace
}  // namespace strata::web
