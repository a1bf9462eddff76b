// SigV4Signer against AWS's published Signature Version 4 test suite (credentials
// AKIDEXAMPLE, region us-east-1, service "service", 20150830T123600Z) and the S3 examples of
// the S3 API reference ("Signature Calculations for the Authorization Header": examplebucket,
// 20130524T000000Z). Expected values are the published ones, not outputs of this code.
#include <gtest/gtest.h>

#include "cold/digest.h"
#include "cold/sigv4_signer.h"

namespace strata {
namespace {

constexpr const char* kEmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* kSuiteDate = "20150830T123600Z";
constexpr const char* kSuiteScope = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";

SigV4Signer SuiteSigner() {
  return SigV4Signer({"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""}, "us-east-1",
                     "service");
}

SigV4Request SuiteRequest(std::string method, QueryList query = {}, HeaderList extra = {},
                          std::string_view body = "", std::string path = "/") {
  SigV4Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.query = std::move(query);
  r.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", kSuiteDate}};
  r.headers.insert(r.headers.end(), extra.begin(), extra.end());
  r.payload_hash = Sha256Hex(body);
  return r;
}

std::string Authz(const std::string& signed_headers, const std::string& signature) {
  return std::string("AWS4-HMAC-SHA256 Credential=") + kSuiteScope +
         ", SignedHeaders=" + signed_headers + ", Signature=" + signature;
}

std::string Sts(const std::string& creq_hash) {
  return std::string("AWS4-HMAC-SHA256\n") + kSuiteDate +
         "\n20150830/us-east-1/service/aws4_request\n" + creq_hash;
}

TEST(SigV4SuiteTest, GetVanilla) {
  SigV4Signature s = SuiteSigner().Sign(SuiteRequest("GET"), kSuiteDate);
  EXPECT_EQ(s.canonical_request,
            std::string("GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                        "host;x-amz-date\n") + kEmptyHash);
  EXPECT_EQ(s.string_to_sign,
            Sts("bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"));
  EXPECT_EQ(s.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  EXPECT_EQ(s.authorization,
            Authz("host;x-amz-date",
                  "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
}

TEST(SigV4SuiteTest, GetVanillaQueryOrderKeyCase) {
  SigV4Signature s = SuiteSigner().Sign(
      SuiteRequest("GET", {{"Param2", "value2"}, {"Param1", "value1"}}), kSuiteDate);
  EXPECT_EQ(s.canonical_request,
            std::string("GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\n"
                        "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n") + kEmptyHash);
  EXPECT_EQ(s.string_to_sign,
            Sts("816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0"));
  EXPECT_EQ(s.signature, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4SuiteTest, GetVanillaQueryOrderValue) {
  SigV4Signature s = SuiteSigner().Sign(
      SuiteRequest("GET", {{"Param1", "value2"}, {"Param1", "value1"}}), kSuiteDate);
  EXPECT_EQ(s.canonical_request,
            std::string("GET\n/\nParam1=value1&Param1=value2\nhost:example.amazonaws.com\n"
                        "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n") + kEmptyHash);
  EXPECT_EQ(s.string_to_sign,
            Sts("c968629d70850097a2d8781c9bf7edcb988b04cac14cca9be4acc3595f884606"));
  EXPECT_EQ(s.signature, "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694");
}

TEST(SigV4SuiteTest, GetVanillaUtf8Query) {
  SigV4Signature s = SuiteSigner().Sign(SuiteRequest("GET", {{"\xE1\x88\xB4", "bar"}}), kSuiteDate);
  EXPECT_EQ(s.canonical_request,
            std::string("GET\n/\n%E1%88%B4=bar\nhost:example.amazonaws.com\n"
                        "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n") + kEmptyHash);
  EXPECT_EQ(s.string_to_sign,
            Sts("eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073"));
  EXPECT_EQ(s.signature, "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04");
}

TEST(SigV4SuiteTest, GetUnreserved) {
  const std::string path = "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  SigV4Signature s = SuiteSigner().Sign(SuiteRequest("GET", {}, {}, "", path), kSuiteDate);
  EXPECT_EQ(s.canonical_request,
            "GET\n" + path + "\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\n" + kEmptyHash);
  EXPECT_EQ(s.string_to_sign,
            Sts("6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9"));
  EXPECT_EQ(s.signature, "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f");
}

TEST(SigV4SuiteTest, GetHeaderKeyDuplicate) {
  SigV4Signature s = SuiteSigner().Sign(
      SuiteRequest("GET", {},
                   {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}}),
      kSuiteDate);
  EXPECT_EQ(s.canonical_request,
            std::string("GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\n"
                        "x-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n") + kEmptyHash);
  EXPECT_EQ(s.string_to_sign,
            Sts("dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c"));
  EXPECT_EQ(s.signature, "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea");
}

TEST(SigV4SuiteTest, GetHeaderValueTrim) {
  SigV4Signature s = SuiteSigner().Sign(
      SuiteRequest("GET", {}, {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}}),
      kSuiteDate);
  EXPECT_EQ(s.canonical_request,
            std::string("GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\n"
                        "my-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n\n"
                        "host;my-header1;my-header2;x-amz-date\n") + kEmptyHash);
  EXPECT_EQ(s.string_to_sign,
            Sts("a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7"));
  EXPECT_EQ(s.signature, "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");
}

TEST(SigV4SuiteTest, PostVanillaAndQuery) {
  SigV4Signature v = SuiteSigner().Sign(SuiteRequest("POST"), kSuiteDate);
  EXPECT_EQ(v.string_to_sign,
            Sts("553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87"));
  EXPECT_EQ(v.signature, "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
  SigV4Signature q = SuiteSigner().Sign(SuiteRequest("POST", {{"Param1", "value1"}}), kSuiteDate);
  EXPECT_EQ(q.string_to_sign,
            Sts("9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd"));
  EXPECT_EQ(q.signature, "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11");
}

TEST(SigV4SuiteTest, PostHeaderKeySortAndValueCase) {
  SigV4Signature sort =
      SuiteSigner().Sign(SuiteRequest("POST", {}, {{"My-Header1", "value1"}}), kSuiteDate);
  EXPECT_EQ(sort.string_to_sign,
            Sts("9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65"));
  EXPECT_EQ(sort.signature, "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c");
  SigV4Signature vcase =
      SuiteSigner().Sign(SuiteRequest("POST", {}, {{"My-Header1", "VALUE1"}}), kSuiteDate);
  EXPECT_EQ(vcase.string_to_sign,
            Sts("d51ced243e649e3de6ef63afbbdcbca03131a21a7103a1583706a64618606a93"));
  EXPECT_EQ(vcase.signature, "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d");
}

TEST(SigV4SuiteTest, PostXWwwFormUrlencoded) {
  const std::string body = "Param1=value1";
  SigV4Signature s = SuiteSigner().Sign(
      SuiteRequest("POST", {}, {{"Content-Type", "application/x-www-form-urlencoded"}}, body),
      kSuiteDate);
  EXPECT_EQ(s.canonical_request,
            "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\n"
            "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "content-type;host;x-amz-date\n"
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  EXPECT_EQ(s.string_to_sign,
            Sts("42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281"));
  EXPECT_EQ(s.authorization,
            Authz("content-type;host;x-amz-date",
                  "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"));
}

// ----- S3 examples (AKIAIOSFODNN7EXAMPLE, 20130524T000000Z, us-east-1, s3) -----

SigV4Signer S3ExampleSigner() {
  return SigV4Signer({"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""},
                     "us-east-1", "s3");
}

TEST(SigV4S3ExampleTest, GetObjectWithRange) {
  SigV4Request r;
  r.method = "GET";
  r.path = "/test.txt";
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"Range", "bytes=0-9"},
               {"x-amz-content-sha256", kEmptyHash},
               {"x-amz-date", "20130524T000000Z"}};
  r.payload_hash = kEmptyHash;
  SigV4Signature s = S3ExampleSigner().Sign(r, "20130524T000000Z");
  EXPECT_EQ(s.canonical_request,
            std::string("GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
                        "x-amz-content-sha256:") + kEmptyHash +
                "\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n" +
                kEmptyHash);
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4S3ExampleTest, PutObjectEncodesTheKey) {
  const std::string body = "Welcome to Amazon S3.";
  ASSERT_EQ(Sha256Hex(body), "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  SigV4Request r;
  r.method = "PUT";
  r.path = "/test$file.text";  // raw: the signer encodes '$' as %24
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"x-amz-date", "20130524T000000Z"},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
               {"x-amz-content-sha256", Sha256Hex(body)}};
  r.payload_hash = Sha256Hex(body);
  SigV4Signature s = S3ExampleSigner().Sign(r, "20130524T000000Z");
  EXPECT_EQ(s.canonical_request.substr(0, 22), "PUT\n/test%24file.text\n");
  EXPECT_EQ(s.signed_headers, "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  EXPECT_EQ(s.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4S3ExampleTest, GetBucketLifecycleAndListObjects) {
  SigV4Request r;
  r.method = "GET";
  r.path = "/";
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"x-amz-content-sha256", kEmptyHash},
               {"x-amz-date", "20130524T000000Z"}};
  r.payload_hash = kEmptyHash;
  r.query = {{"lifecycle", ""}};
  SigV4Signature lifecycle = S3ExampleSigner().Sign(r, "20130524T000000Z");
  EXPECT_EQ(lifecycle.canonical_request.substr(0, 18), "GET\n/\nlifecycle=\nh");
  EXPECT_EQ(lifecycle.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");

  r.query = {{"prefix", "J"}, {"max-keys", "2"}};
  SigV4Signature list = S3ExampleSigner().Sign(r, "20130524T000000Z");
  EXPECT_EQ(list.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
  EXPECT_EQ(list.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4SignerTest, SigningKeyMatchesTheDocumentedDerivation) {
  // AWS General Reference, "Examples of how to derive a signing key".
  EXPECT_EQ(HexEncode(SigV4Signer::DeriveSigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                                    "20120215", "us-east-1", "iam")),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(SigV4SignerTest, CachedKeyFollowsTheDate) {
  SigV4Signer signer = SuiteSigner();
  SigV4Request r = SuiteRequest("GET");
  std::string day1 = signer.Sign(r, kSuiteDate).signature;
  std::string day2 = signer.Sign(r, "20150831T123600Z").signature;
  EXPECT_NE(day1, day2);
  EXPECT_EQ(signer.Sign(r, kSuiteDate).signature, day1);  // back to day 1: key re-derived
  EXPECT_EQ(SuiteSigner().Sign(r, "20150831T123600Z").signature, day2);
}

TEST(SigV4SignerTest, UriEncode) {
  EXPECT_EQ(SigV4Signer::UriEncode("a b/c", false), "a%20b/c");
  EXPECT_EQ(SigV4Signer::UriEncode("a b/c", true), "a%20b%2Fc");
  EXPECT_EQ(SigV4Signer::UriEncode("-._~AZaz09", true), "-._~AZaz09");
  EXPECT_EQ(SigV4Signer::UriEncode("$+=,@*", true), "%24%2B%3D%2C%40%2A");
  EXPECT_EQ(SigV4Signer::UriEncode("\xE1\x88\xB4", true), "%E1%88%B4");
}

TEST(SigV4SignerTest, AmzDateIsUtc) {
  auto t = std::chrono::system_clock::from_time_t(1440938160);  // 2015-08-30 12:36:00 UTC
  EXPECT_EQ(SigV4Signer::AmzDate(t), kSuiteDate);
}

TEST(DigestTest, KnownAnswers) {
  EXPECT_EQ(Sha256Hex(""), kEmptyHash);
  // RFC 4231 test case 2.
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(HexEncode(Md5("The quick brown fox jumps over the lazy dog")),
            "9e107d9d372bb6826bd81d3542a419d6");
  EXPECT_EQ(Md5Base64(""), "1B2M2Y8AsgTpgAmY7PhCfg==");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
}

}  // namespace
}  // namespace strata
