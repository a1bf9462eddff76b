// The pieces under S3ColdStore that need no network: the XML reader, the S3 documents,
// addressing, the retry policy and the key rules.
#include <gtest/gtest.h>

#include "cold/object_key.h"
#include "cold/retry_policy.h"
#include "cold/s3_endpoint.h"
#include "cold/s3_messages.h"
#include "cold/xml_reader.h"

namespace strata {
namespace {

TEST(XmlReaderTest, ParsesElementsTextEntitiesAndCdata) {
  auto doc = ParseXml(
      "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- a comment -->\n"
      "<s3:Root xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\" a='x>y'>"
      "<Key>a&amp;b &lt;c&gt; &quot;d&quot; &apos;e&apos; &#65;&#x42;&#x1234;</Key>"
      "<!-- <Key>not this</Key> -->"
      "<Empty/><Empty2></Empty2>"
      "<Data><![CDATA[<raw> & stuff]]></Data>"
      "<Item><N>1</N></Item><Item><N>2</N></Item>"
      "</s3:Root>\n");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->name, "Root");
  EXPECT_EQ(doc->ChildText("Key"), "a&b <c> \"d\" 'e' AB\xE1\x88\xB4");
  EXPECT_EQ(doc->Children("Key").size(), 1u);  // the commented-out one is not an element
  ASSERT_NE(doc->Child("Empty"), nullptr);
  EXPECT_EQ(doc->ChildText("Empty"), "");
  EXPECT_EQ(doc->ChildText("Empty2"), "");
  EXPECT_EQ(doc->ChildText("Data"), "<raw> & stuff");
  auto items = doc->Children("Item");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1]->ChildText("N"), "2");
  EXPECT_EQ(doc->Child("Missing"), nullptr);
  EXPECT_EQ(doc->ChildText("Missing"), "");
}

TEST(XmlReaderTest, RejectsMalformedDocuments) {
  for (const char* bad : {"", "text only", "<a>", "<a></b>", "<a><b></a></b>", "<a/><b/>",
                          "<a>&unknown;</a>", "<a>&amp</a>", "<a>&#xZZ;</a>", "<a>&#0;</a>",
                          "<a></a>junk", "<a b=\"unterminated></a>", "<!-- never closed",
                          "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>"}) {
    auto doc = ParseXml(bad);
    EXPECT_FALSE(doc.ok()) << "accepted: " << bad;
    if (!doc.ok()) {
      EXPECT_EQ(doc.status().code(), Status::Code::kCorruption) << bad;
    }
  }
}

TEST(XmlReaderTest, EscapeRoundTrips) {
  std::string raw = "\"etag\" & <x> 'y'";
  auto doc = ParseXml("<a>" + XmlEscape(raw) + "</a>");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->text, raw);
}

TEST(S3MessagesTest, ListObjectsV2) {
  const char* body = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <Contents>
    <Key>p/a&amp;b.zip</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>
    <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size>
    <StorageClass>STANDARD</StorageClass>
    <Owner><ID>x</ID><DisplayName>y</DisplayName></Owner>
  </Contents>
  <Contents>
    <Key>p/c</Key><LastModified>2009-10-12T17:50:30Z</LastModified><ETag>"e"</ETag><Size>0</Size>
  </Contents>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
</ListBucketResult>)";
  auto page = ParseListObjectsV2(body);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "p/a&b.zip");
  EXPECT_EQ(page->objects[0].size, 434234u);
  EXPECT_EQ(page->objects[0].etag, "\"fba9dede5f27731c9771645a39863328\"");
  EXPECT_EQ(page->objects[0].modified_ms, 1255369830000);
  EXPECT_EQ(page->objects[1].key, "p/c");
  EXPECT_EQ(page->objects[1].size, 0u);
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");

  auto empty = ParseListObjectsV2(
      "<ListBucketResult><Name>b</Name><IsTruncated>false</IsTruncated></ListBucketResult>");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->objects.empty());
  EXPECT_FALSE(empty->truncated);

  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated>"
                                  "</ListBucketResult>").ok());  // truncated, no token
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><Contents><Key>k</Key><Size>x</Size>"
                                  "</Contents></ListBucketResult>").ok());
  EXPECT_FALSE(ParseListObjectsV2("<Error><Code>NoSuchBucket</Code></Error>").ok());
}

TEST(S3MessagesTest, MultipartDocuments) {
  auto id = ParseInitiateMultipartUpload(
      "<?xml version=\"1.0\"?><InitiateMultipartUploadResult xmlns=\"x\"><Bucket>b</Bucket>"
      "<Key>k</Key><UploadId>2~abc&amp;def</UploadId></InitiateMultipartUploadResult>");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "2~abc&def");
  EXPECT_FALSE(ParseInitiateMultipartUpload("<InitiateMultipartUploadResult/>").ok());

  auto uploads = ParseListMultipartUploads(R"(<ListMultipartUploadsResult>
    <Bucket>b</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>
    <NextKeyMarker>p/k2</NextKeyMarker><NextUploadIdMarker>id2</NextUploadIdMarker>
    <MaxUploads>2</MaxUploads><IsTruncated>true</IsTruncated>
    <Upload><Key>p/k1</Key><UploadId>id1</UploadId>
      <Initiator><ID>i</ID></Initiator><Owner><ID>o</ID></Owner>
      <StorageClass>STANDARD</StorageClass><Initiated>2009-10-12T17:50:30.123Z</Initiated></Upload>
    <Upload><Key>p/k2</Key><UploadId>id2</UploadId><Initiated>2009-10-12T17:50:30Z</Initiated></Upload>
  </ListMultipartUploadsResult>)");
  ASSERT_TRUE(uploads.ok()) << uploads.status().ToString();
  ASSERT_EQ(uploads->uploads.size(), 2u);
  EXPECT_EQ(uploads->uploads[0].key, "p/k1");
  EXPECT_EQ(uploads->uploads[0].upload_id, "id1");
  EXPECT_EQ(uploads->uploads[0].initiated_ms, 1255369830123);
  EXPECT_TRUE(uploads->truncated);
  EXPECT_EQ(uploads->next_key_marker, "p/k2");
  EXPECT_EQ(uploads->next_upload_id_marker, "id2");

  std::string complete = BuildCompleteMultipartUpload({{1, "\"a1\""}, {3, "\"b&2\""}});
  auto doc = ParseXml(complete);
  ASSERT_TRUE(doc.ok()) << complete;
  EXPECT_EQ(doc->name, "CompleteMultipartUpload");
  auto parts = doc->Children("Part");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0]->ChildText("PartNumber"), "1");
  EXPECT_EQ(parts[0]->ChildText("ETag"), "\"a1\"");
  EXPECT_EQ(parts[1]->ChildText("PartNumber"), "3");
  EXPECT_EQ(parts[1]->ChildText("ETag"), "\"b&2\"");
}

TEST(S3MessagesTest, ErrorDocument) {
  auto e = ParseS3Error(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code>"
      "<Message>The resource you requested does not exist</Message><Resource>/b/k</Resource>"
      "<RequestId>4442587FB7D0A2F9</RequestId></Error>");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "NoSuchKey");
  EXPECT_EQ(e->message, "The resource you requested does not exist");
  EXPECT_EQ(e->request_id, "4442587FB7D0A2F9");
  EXPECT_FALSE(ParseS3Error("").has_value());
  EXPECT_FALSE(ParseS3Error("<html><body>502 Bad Gateway</body></html>").has_value());
  EXPECT_FALSE(ParseS3Error("<CompleteMultipartUploadResult/>").has_value());
}

TEST(S3MessagesTest, Dates) {
  EXPECT_EQ(ParseIso8601Ms("2009-10-12T17:50:30.000Z"), 1255369830000);
  EXPECT_EQ(ParseIso8601Ms("2009-10-12T17:50:30Z"), 1255369830000);
  EXPECT_EQ(ParseIso8601Ms("2009-10-12T17:50:30.5Z"), 1255369830500);
  EXPECT_EQ(ParseIso8601Ms("2009-10-12T17:50:30.123456Z"), 1255369830123);
  EXPECT_FALSE(ParseIso8601Ms("2009-10-12 17:50:30Z").has_value());
  EXPECT_FALSE(ParseIso8601Ms("2009-10-12T17:50:30.Z").has_value());
  EXPECT_FALSE(ParseIso8601Ms("2009-10-12T17:50:30+01:00").has_value());
  EXPECT_EQ(ParseHttpDateMs("Mon, 12 Oct 2009 17:50:00 GMT"), 1255369800000);
  EXPECT_FALSE(ParseHttpDateMs("yesterday").has_value());
}

TEST(S3EndpointTest, PathStyle) {
  auto e = S3Endpoint::Create("http://127.0.0.1:7480/", "my-bucket", true);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->HostHeader(), "127.0.0.1:7480");
  EXPECT_EQ(e->Path("a/b c"), "/my-bucket/a/b c");
  EXPECT_EQ(e->Path(""), "/my-bucket");
  EXPECT_EQ(e->Url("a/b c", {}), "http://127.0.0.1:7480/my-bucket/a/b%20c");
  EXPECT_EQ(e->Url("k", {{"uploadId", "x/y+z"}, {"partNumber", "3"}}),
            "http://127.0.0.1:7480/my-bucket/k?uploadId=x%2Fy%2Bz&partNumber=3");
  EXPECT_EQ(e->Url("", {{"uploads", ""}, {"prefix", "p/"}}),
            "http://127.0.0.1:7480/my-bucket?uploads&prefix=p%2F");
  EXPECT_EQ(e->endpoint(), "http://127.0.0.1:7480");
}

TEST(S3EndpointTest, VirtualHostedAndDefaultPorts) {
  auto e = S3Endpoint::Create("https://s3.eu-west-1.amazonaws.com:443", "bucket.one", false);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->HostHeader(), "bucket.one.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(e->Path("k/x"), "/k/x");
  EXPECT_EQ(e->Path(""), "/");
  EXPECT_EQ(e->Url("k/x", {}), "https://bucket.one.s3.eu-west-1.amazonaws.com/k/x");
  auto h = S3Endpoint::Create("http://localhost:80", "bkt", false);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->HostHeader(), "bkt.localhost");
  auto v6 = S3Endpoint::Create("http://[::1]:9000", "bkt", true);
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->HostHeader(), "[::1]:9000");
}

TEST(S3EndpointTest, RejectsBadEndpointsAndBuckets) {
  for (const char* url : {"127.0.0.1:7480", "ftp://h", "http://", "http://h/path", "http://h:x",
                          "http://h:"}) {
    EXPECT_FALSE(S3Endpoint::Create(url, "bucket", true).ok()) << url;
  }
  for (const char* b : {"ab", "UPPER", "under_score", "-start", "end-", "a..b",
                        "0123456789012345678901234567890123456789012345678901234567890123"}) {
    EXPECT_FALSE(S3Endpoint::Create("http://h", b, true).ok()) << b;
  }
  EXPECT_FALSE(S3Endpoint::Create("http://[::1]", "bucket", false).ok());
}

TEST(RetryPolicyTest, ExponentialWithJitterAndCap) {
  RetryPolicy p;
  p.base_delay_ms = 100;
  p.max_delay_ms = 1000;
  for (int i = 0; i < 200; ++i) {
    for (int retry = 1; retry <= 8; ++retry) {
      int64_t d = std::min<int64_t>(1000, 100LL << (retry - 1));
      auto got = p.Delay(retry).count();
      EXPECT_GE(got, d / 2) << "retry " << retry;
      EXPECT_LE(got, d) << "retry " << retry;
    }
  }
  EXPECT_EQ(p.Delay(1, 0).count(), 0);
  EXPECT_EQ(p.Delay(1, 3).count(), 1000);  // Retry-After: 3 capped at max_delay
  p.max_delay_ms = 5000;
  EXPECT_EQ(p.Delay(1, 3).count(), 3000);
}

TEST(RetryPolicyTest, WhichStatusesAreTransient) {
  for (long s : {500L, 502L, 503L, 504L, 429L, 408L}) EXPECT_TRUE(IsRetryableHttpStatus(s)) << s;
  for (long s : {200L, 206L, 301L, 400L, 403L, 404L, 409L, 416L}) {
    EXPECT_FALSE(IsRetryableHttpStatus(s)) << s;
  }
}

TEST(ObjectKeyTest, AcceptsPortableKeys) {
  for (const char* k : {"a", "packs/1.2.840.10008/study-1.zip", "x_y-z~w=v+u,t@s",
                        "A/B/C/D/E"}) {
    EXPECT_TRUE(ValidateObjectKey(k).ok()) << k;
  }
  EXPECT_TRUE(ValidateObjectKey(std::string(200, 'x')).ok());
  std::string long_key;
  for (int i = 0; i < 5; ++i) long_key += std::string(199, 'k') + "/";
  long_key += std::string(24, 'k');
  EXPECT_EQ(long_key.size(), 1024u);
  EXPECT_TRUE(ValidateObjectKey(long_key).ok());
}

TEST(ObjectKeyTest, RejectsUnsafeKeys) {
  for (std::string k : {"", "/abs", "a//b", "a/", "..", "a/../b", ".", "a/./b", ".hidden",
                        "a/.uploads/x", "with space", "tab\tkey", "new\nline", "back\\slash",
                        "q?uery", "h#ash", "per%cent", "st*ar", "\xC3\xBC" "nicode"}) {
    Status s = ValidateObjectKey(k);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << "accepted: " << k;
  }
  EXPECT_FALSE(ValidateObjectKey(std::string(201, 'x')).ok());
  EXPECT_FALSE(ValidateObjectKey(std::string(1025, 'x')).ok());
}

TEST(ObjectKeyTest, Prefixes) {
  for (const char* p : {"", "a", "a/", "a/b.", "packs/1.2/"}) {
    EXPECT_TRUE(ValidateKeyPrefix(p).ok()) << p;
  }
  for (const char* p : {"/", "/a", "a//", "../", "a/.u", "sp ace"}) {
    EXPECT_FALSE(ValidateKeyPrefix(p).ok()) << p;
  }
}

}  // namespace
}  // namespace strata
