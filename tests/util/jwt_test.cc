// JwtValidator against fixed vectors: an RSA-2048 and a P-256 key (JWKS below) and tokens
// signed with them once by python3-cryptography (tests/util/jwt_test.cc, vectors fixed so the
// test needs no crypto of its own). Claims: iss https://idp.test, aud strata, sub alice,
// nbf 1700000000, exp 2000000000, roles [read, write]; the ES256 token: sub bob, aud
// [other, strata], scope "read delete".
#include "util/jwt.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include <unistd.h>

#include "util/audit_log.h"
#include "util/file_util.h"
#include "jwt_vectors.h"

namespace strata {
namespace {

using namespace jwt_vectors;


constexpr int64_t kNow = 1800000000;

JwtOptions Opts() {
  JwtOptions o;
  o.issuer = "https://idp.test";
  o.audiences = {"strata"};
  return o;
}

std::unique_ptr<JwtValidator> Loaded(JwtOptions o = Opts()) {
  auto v = std::make_unique<JwtValidator>(std::move(o));
  EXPECT_TRUE(v->SetKeys(kJwks).ok());
  return v;
}

std::string B64Url(const std::string& s) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : s) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) out += a[(acc >> (bits -= 6)) & 63];
  }
  if (bits > 0) out += a[(acc << (6 - bits)) & 63];
  return out;
}

TEST(Jwt, LoadsBothKeys) { EXPECT_EQ(Loaded()->key_count(), 2u); }

TEST(Jwt, AcceptsRs256) {
  auto c = Loaded()->Validate(kRs, kNow);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->subject, "alice");
  EXPECT_EQ(c->roles, (std::vector<std::string>{"read", "write"}));
  EXPECT_EQ(c->expires_s, 2000000000);
}

TEST(Jwt, AcceptsEs256WithAudienceListAndScopeClaim) {
  JwtOptions o = Opts();
  o.roles_claim = "scope";
  auto c = Loaded(o)->Validate(kEs, kNow);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->subject, "bob");
  EXPECT_EQ(c->roles, (std::vector<std::string>{"read", "delete"}));
}

TEST(Jwt, TokenWithoutKidUsesTheKeyOfItsAlgorithm) { EXPECT_TRUE(Loaded()->Validate(kNokid, kNow).ok()); }

TEST(Jwt, UnknownKid) {
  auto c = Loaded()->Validate(kBadkid, kNow);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("unknown key id"), std::string::npos);
}

TEST(Jwt, ExpiryWithLeeway) {
  auto v = Loaded();
  EXPECT_TRUE(v->Validate(kRs, 2000000000 + 59).ok());
  auto c = v->Validate(kRs, 2000000000 + 61);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "token expired");
}

TEST(Jwt, NotBefore) {
  auto v = Loaded();
  EXPECT_TRUE(v->Validate(kRs, 1700000000 - 59).ok());
  auto c = v->Validate(kRs, 1700000000 - 61);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("not yet valid"), std::string::npos);
}

TEST(Jwt, WrongAudienceAndIssuer) {
  JwtOptions o = Opts();
  o.audiences = {"someone-else"};
  auto c = Loaded(o)->Validate(kRs, kNow);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("audience"), std::string::npos);
  o = Opts();
  o.issuer = "https://evil.test";
  c = Loaded(o)->Validate(kRs, kNow);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("issuer"), std::string::npos);
}

TEST(Jwt, TamperedPayloadFailsSignature) {
  const std::string t = kRs;
  const size_t d1 = t.find('.'), d2 = t.rfind('.');
  const std::string forged = B64Url(
      R"({"iss":"https://idp.test","aud":"strata","sub":"alice","exp":2000000000,"roles":["read","write","admin"]})");
  auto c = Loaded()->Validate(t.substr(0, d1 + 1) + forged + t.substr(d2), kNow);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "token signature does not verify");
  // One flipped signature bit.
  std::string flipped = t;
  flipped[d2 + 5] = flipped[d2 + 5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(Loaded()->Validate(flipped, kNow).ok());
}

TEST(Jwt, AlgorithmConfusionRefused) {
  const std::string payload = B64Url(R"({"aud":"strata","iss":"https://idp.test","exp":2000000000})");
  for (const char* alg : {"none", "HS256", "RS512"}) {
    const std::string t = B64Url(std::string(R"({"alg":")") + alg + R"("})") + "." + payload + ".c2ln";
    auto c = Loaded()->Validate(t, kNow);
    ASSERT_FALSE(c.ok()) << alg;
    EXPECT_NE(c.status().message().find("not accepted"), std::string::npos) << alg;
  }
  // An RS256 header over the EC key's kid: no RSA key of that id.
  const std::string t = kRs;
  const std::string hdr = B64Url(R"({"alg":"RS256","kid":"e1"})");
  EXPECT_FALSE(Loaded()->Validate(hdr + t.substr(t.find('.')), kNow).ok());
}

TEST(Jwt, MalformedInputs) {
  auto v = Loaded();
  for (const char* t : {"", "abc", "a.b", "a.b.c.d", "!!.!!.!!", "e30.e30.e30"}) EXPECT_FALSE(v->Validate(t, kNow).ok()) << t;
  JwtValidator empty(Opts());
  EXPECT_FALSE(empty.SetKeys("{}").ok());
  EXPECT_FALSE(empty.SetKeys(R"({"keys":[{"kty":"oct","k":"c2VjcmV0"}]})").ok());
  EXPECT_FALSE(empty.SetKeys("not json").ok());
  EXPECT_FALSE(empty.Validate(kRs, kNow).ok());  // no keys at all
}

TEST(AuditLog, FormatsPs315FieldNames) {
  AuditEvent e;
  e.action = "store";
  e.protocol = "DIMSE";
  e.ae = "MODALITY";
  e.address = "10.0.0.7";
  e.study = "1.2.3";
  e.instances = {"1.2.3.4"};
  const std::string line = AuditLog::Format(e, 1800000000123, "strata");
  EXPECT_NE(line.find(R"("EventID":"110104")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("EventActionCode":"C")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("EventDateTime":"2027-01-15T08:00:00.123Z")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("EventOutcomeIndicator":0)"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("AlternativeUserID":"MODALITY")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("ParticipantObjectID":"1.2.3")"), std::string::npos) << line;
  e.action = "deny";
  e.success = false;
  EXPECT_NE(AuditLog::Format(e, 0, "s").find(R"("EventOutcomeIndicator":8)"), std::string::npos);
}

TEST(AuditLog, ConcurrentChangesShareSyncs) {
  char dir[] = "/tmp/strata-audit-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/audit.jsonl";
  {
    auto log = AuditLog::Open({path, "", "strata"});
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < 50; ++i) {
          AuditEvent e;
          e.action = "store";
          e.instances = {"1.2." + std::to_string(t) + "." + std::to_string(i)};
          EXPECT_TRUE((*log)->RecordChange(e).ok());
        }
      });
    for (auto& th : threads) th.join();
    EXPECT_LE((*log)->syncs(), 400u);
    EXPECT_GE((*log)->syncs(), 1u);
  }
  auto read = ReadFile(path);
  ASSERT_TRUE(read.ok());
  const std::string& text = read.value();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 400);
  EXPECT_FALSE(AuditLog::Open({"/nonexistent-dir/x", "", "s"}).ok());
  EXPECT_FALSE(AuditLog::Open({path, "udp:nohostport", "s"}).ok());
  std::remove(path.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace strata
