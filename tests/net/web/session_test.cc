// Browser sessions (net/web/session.h): the table, the cookie, and who a request is.
#include "net/web/session.h"

#include <gtest/gtest.h>

#include <set>

namespace strata::web {
namespace {

Identity Reader() { return Identity{"reader", "basic", kRoleRead}; }

TEST(SessionTable, CreateFindExpireRemove) {
  SessionTable t({/*lifetime_s=*/100, /*max_sessions=*/10});
  auto s = t.Create(Reader(), 1000);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->id.size(), 64u);
  EXPECT_EQ(s->id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(s->expires_s, 1100);
  auto who = t.Find(s->id, 1099);
  ASSERT_TRUE(who.has_value());
  EXPECT_EQ(who->name, "reader");
  EXPECT_EQ(who->roles, static_cast<unsigned>(kRoleRead));
  EXPECT_EQ(who->scheme, "session");
  EXPECT_FALSE(t.Find(s->id, 1100).has_value());  // expired: gone for good
  EXPECT_FALSE(t.Find(s->id, 1000).has_value());
  EXPECT_EQ(t.size(), 0u);
  auto s2 = t.Create(Reader(), 1000);
  ASSERT_TRUE(s2.ok());
  EXPECT_TRUE(t.Remove(s2->id));
  EXPECT_FALSE(t.Find(s2->id, 1001).has_value());
  EXPECT_FALSE(t.Remove(s2->id));
}

TEST(SessionTable, IdsAreRandomAndForgeriesFail) {
  SessionTable t({3600, 1000});
  std::set<std::string> ids;
  for (int i = 0; i < 200; ++i) ids.insert(t.Create(Reader(), 1).value().id);
  EXPECT_EQ(ids.size(), 200u);
  const std::string real = *ids.begin();
  std::string forged = real;
  forged[10] = forged[10] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(t.Find(forged, 2).has_value());
  EXPECT_FALSE(t.Find(real.substr(0, 63), 2).has_value());
  EXPECT_FALSE(t.Find(real + "0", 2).has_value());
  std::string upper = real;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper != real) EXPECT_FALSE(t.Find(upper, 2).has_value());
  EXPECT_FALSE(t.Find("", 2).has_value());
  EXPECT_TRUE(t.Find(real, 2).has_value());
}

TEST(SessionTable, EndsWithItsCredentialAndIsBounded) {
  SessionTable t({3600, 3});
  Identity jwt{"alice", "jwt", kRoleRead, /*expires_s=*/1300};
  auto s = t.Create(jwt, 1000);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->expires_s, 1300);  // not past the token's exp
  EXPECT_TRUE(t.Find(s->id, 1299).has_value());
  EXPECT_FALSE(t.Find(s->id, 1300).has_value());
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(t.Create(Reader(), 1000 + i).value().id);
  EXPECT_EQ(t.size(), 3u);
  EXPECT_FALSE(t.Find(ids[0], 1010).has_value());  // the ones closest to their end made room
  EXPECT_FALSE(t.Find(ids[1], 1010).has_value());
  EXPECT_TRUE(t.Find(ids[4], 1010).has_value());
}

TEST(SessionCookie, ParseAndSet) {
  EXPECT_EQ(CookieValue("strata_session=abc", "strata_session"), "abc");
  EXPECT_EQ(CookieValue("a=1; strata_session=abc; b=2", "strata_session"), "abc");
  EXPECT_EQ(CookieValue("xstrata_session=abc; strata_session_x=1", "strata_session"), "");
  EXPECT_EQ(CookieValue("strata_session=\"q\"", "strata_session"), "q");
  EXPECT_EQ(CookieValue("", "strata_session"), "");
  const std::string c = SessionSetCookie("abc", 60, false);
  EXPECT_EQ(c, "strata_session=abc; Path=/; Max-Age=60; HttpOnly; SameSite=Strict");
  EXPECT_EQ(SessionSetCookie("", 0, true), "strata_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure");
}

TEST(SessionAuth, CookieIsAnIdentityAndChangesNeedTheHeader) {
  AccessOptions o;
  o.users = {{"reader", "read:rpw"}, {"boss", "admin:bpw"}};
  auto policy = AccessPolicy::Create(o);
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  SessionTable t({3600, 100});
  const std::string id = t.Create(Identity{"boss", "basic", kRoleAll}, 1000).value().id;
  auto request = [&](const std::string& method, const std::string& cookie, bool header) {
    httplib::Request req;
    req.method = method;
    if (!cookie.empty()) req.headers.emplace("Cookie", cookie);
    if (header) req.headers.emplace(kCsrfHeader, "1");
    return AuthenticateRequest(*policy, &t, req, 1001);
  };
  auto r = request("GET", "strata_session=" + id, false);
  EXPECT_TRUE(r.auth.ok);
  EXPECT_TRUE(r.by_cookie);
  EXPECT_EQ(r.auth.identity.name, "boss");
  EXPECT_EQ(r.auth.identity.roles, static_cast<unsigned>(kRoleAll));
  // A change with the cookie alone: 403; with the page's header: fine.
  for (const char* m : {"POST", "PUT", "PATCH", "DELETE"}) {
    auto bare = request(m, "strata_session=" + id, false);
    EXPECT_FALSE(bare.auth.ok) << m;
    EXPECT_EQ(bare.status, 403) << m;
    EXPECT_TRUE(request(m, "strata_session=" + id, true).auth.ok) << m;
  }
  // Unknown, forged, none: 401.
  auto forged = request("GET", "strata_session=" + std::string(64, 'a'), true);
  EXPECT_FALSE(forged.auth.ok);
  EXPECT_EQ(forged.status, 401);
  EXPECT_EQ(request("GET", "", false).status, 401);
  EXPECT_FALSE(request("GET", "", false).auth.ok);
  // An Authorization header wins over the cookie (and is judged alone).
  httplib::Request req;
  req.method = "GET";
  req.headers.emplace("Cookie", "strata_session=" + id);
  req.headers.emplace("Authorization", "Basic cmVhZGVyOndyb25n");  // reader:wrong
  auto both = AuthenticateRequest(*policy, &t, req, 1001);
  EXPECT_FALSE(both.auth.ok);
  EXPECT_FALSE(both.by_cookie);
  // Auth off: everyone, cookie or not.
  auto open = AccessPolicy::Create({});
  ASSERT_TRUE(open.ok());
  httplib::Request anon;
  anon.method = "DELETE";
  anon.headers.emplace("Cookie", "strata_session=zzz");
  EXPECT_TRUE(AuthenticateRequest(*open, &t, anon, 1001).auth.ok);
}

}  // namespace
}  // namespace strata::web
