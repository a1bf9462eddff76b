// AccessPolicy with identities: Basic users and static tokens with roles, JWTs through the
// policy (fixed vectors of tests/util/jwt_vectors.h), and the 401 challenge texts.
#include <gtest/gtest.h>

#include <httplib.h>

#include "../../util/jwt_vectors.h"
#include "net/web/access.h"

namespace strata::web {
namespace {

using namespace jwt_vectors;

std::string Basic(const std::string& up) {
  return httplib::make_basic_authentication_header(up.substr(0, up.find(':')), up.substr(up.find(':') + 1)).second;
}

TEST(RolesTest, Parse) {
  EXPECT_EQ(ParseRoles("read").value(), kRoleRead);
  EXPECT_EQ(ParseRoles("read|write").value(), kRoleRead | kRoleWrite);
  EXPECT_EQ(ParseRoles("admin").value(), kRoleAll);
  EXPECT_EQ(ParseRoles("").value(), 0u);
  EXPECT_FALSE(ParseRoles("read|superuser").ok());
  EXPECT_EQ(RolesFromClaim({"openid", "read", "delete"}), kRoleRead | kRoleDelete);
  EXPECT_EQ(RoleNames(kRoleRead | kRoleDelete), "read|delete");
}

TEST(IdentityTest, UsersAndTokensCarryTheirRoles) {
  AccessOptions o;
  o.users = {{"ann", "read:pa:ss"}, {"bob", "admin:x"}};
  o.tokens = {{"ris", "read|write:T0KEN"}};
  auto p = AccessPolicy::Create(o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->enabled());
  EXPECT_EQ(p->Describe(), "basic,bearer");
  auto a = p->Authenticate(Basic("ann:pa:ss"));
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.identity.name, "ann");
  EXPECT_EQ(a.identity.roles, kRoleRead);
  EXPECT_EQ(p->Authenticate(Basic("bob:x")).identity.roles, kRoleAll);
  auto t = p->Authenticate("Bearer T0KEN");
  ASSERT_TRUE(t.ok);
  EXPECT_EQ(t.identity.name, "ris");
  EXPECT_EQ(t.identity.roles, kRoleRead | kRoleWrite);
  auto wrong = p->Authenticate(Basic("ann:pa:st"));
  EXPECT_FALSE(wrong.ok);
  EXPECT_EQ(wrong.error, "wrong user name or password");
  EXPECT_EQ(wrong.identity.name, "ann");  // for the audit record; never the password
  EXPECT_FALSE(p->Authenticate("Bearer T0KE").ok);
  EXPECT_FALSE(p->Authenticate("Bearer T0KENN").ok);
  EXPECT_FALSE(p->Authenticate("").ok);
  EXPECT_EQ(p->Authenticate("").error, "authentication required");
  EXPECT_FALSE(p->Authenticate("Negotiate abc").ok);
}

TEST(IdentityTest, BadSettings) {
  AccessOptions o;
  o.users = {{"ann", "pass-without-roles"}};
  EXPECT_FALSE(AccessPolicy::Create(o).ok());
  o.users = {{"ann", "root:pw"}};
  EXPECT_FALSE(AccessPolicy::Create(o).ok());
  o.users = {{"a:b", "read:pw"}};
  EXPECT_FALSE(AccessPolicy::Create(o).ok());
  o.users = {};
  o.tokens = {{"t", "read:"}};
  EXPECT_FALSE(AccessPolicy::Create(o).ok());
}

TEST(IdentityTest, JwtThroughThePolicy) {
  AccessOptions o;
  o.jwt = true;
  o.jwt_options.issuer = "https://idp.test";
  o.jwt_options.audiences = {"strata"};
  auto p = AccessPolicy::Create(o);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->SetJwks(kJwks).ok());
  EXPECT_EQ(p->jwt_keys(), 2u);
  auto a = p->Authenticate(std::string("Bearer ") + kRs, 1800000000);
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_EQ(a.identity.name, "alice");
  EXPECT_EQ(a.identity.scheme, "jwt");
  EXPECT_EQ(a.identity.roles, kRoleRead | kRoleWrite);
  auto expired = p->Authenticate(std::string("Bearer ") + kRs, 2000000000 + 3600);
  EXPECT_FALSE(expired.ok);
  EXPECT_EQ(expired.error, "token expired");
  EXPECT_NE(p->Challenge(expired.error).find("error_description=\"token expired\""), std::string::npos);
  // A token's text never appears in an error.
  auto bad = p->Authenticate(std::string("Bearer ") + kBadkid, 1800000000);
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.error.find(kBadkid), std::string::npos);
  EXPECT_FALSE(p->SetJwks("{\"keys\":[]}").ok());
  EXPECT_EQ(p->jwt_keys(), 2u);  // old keys kept
}

}  // namespace
}  // namespace strata::web
