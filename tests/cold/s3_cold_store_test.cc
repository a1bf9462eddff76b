// S3ColdStore in two settings:
// - against FakeS3, a small in-process HTTP server (cpp-httplib) that checks every request's
//   SigV4 signature, Content-MD5 and payload hash, and answers with scripted failures: retries
//   and backoff, errors not retried, the exact-length rule of ranged reads, XML entities,
//   pagination, keep-alive, and the multipart protocol;
// - against a real S3 (Ceph RGW in CI via scripts/test-s3.sh) when STRATA_TEST_S3_ENDPOINT is
//   set: the shared conformance suite, plus pagination, addressing styles and bad
//   credentials. Without it those tests are skipped, saying how to run them.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "cold/digest.h"
#include "cold/s3_cold_store.h"
#include "cold/xml_reader.h"
#include "cold_store_conformance.h"
#include "util/checksum.h"

namespace strata {
namespace {

// ------------------------------------------------------------------------------------------
// FakeS3

class FakeS3 {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  struct Seen {
    std::string method, path, target, body;
    httplib::Headers headers;
    std::string signature_problem;  // "" when the SigV4 signature checked out
  };

  explicit FakeS3(Handler handler) : handler_(std::move(handler)) {
    auto dispatch = [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        seen_.push_back({req.method, req.path, req.target, req.body, req.headers, CheckSignature(req)});
      }
      handler_(req, res);
    };
    server_.set_keep_alive_max_count(1000);
    server_.Get(".*", dispatch);
    server_.Put(".*", dispatch);
    server_.Post(".*", dispatch);
    server_.Delete(".*", dispatch);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeS3() {
    server_.stop();
    thread_.join();
  }

  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<Seen> seen() const {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }
  size_t count() const { return seen().size(); }

  // Recomputes REQ's signature as S3 does; "" if it matches (secret "SECRET").
  static std::string CheckSignature(const httplib::Request& req) {
    std::string auth = req.get_header_value("Authorization");
    auto field = [&](const std::string& name) {
      size_t p = auth.find(name + "=");
      if (p == std::string::npos) return std::string();
      p += name.size() + 1;
      size_t e = auth.find_first_of(", ", p);
      return auth.substr(p, e == std::string::npos ? std::string::npos : e - p);
    };
    std::string credential = field("Credential"), signed_headers = field("SignedHeaders"),
                signature = field("Signature");
    if (auth.rfind("AWS4-HMAC-SHA256 ", 0) != 0 || credential.empty() || signature.empty()) {
      return "no SigV4 Authorization header";
    }
    // AKID/date/region/s3/aws4_request
    std::vector<std::string> scope;
    for (size_t s = 0, e; s <= credential.size(); s = e + 1) {
      e = credential.find('/', s);
      if (e == std::string::npos) e = credential.size();
      scope.push_back(credential.substr(s, e - s));
    }
    if (scope.size() != 5) return "bad credential scope " + credential;
    std::string payload_hash = req.get_header_value("x-amz-content-sha256");
    if (payload_hash != "UNSIGNED-PAYLOAD" && payload_hash != Sha256Hex(req.body)) {
      return "x-amz-content-sha256 does not match the body";
    }
    if (req.has_header("Content-MD5") && req.get_header_value("Content-MD5") != Md5Base64(req.body)) {
      return "Content-MD5 does not match the body";
    }
    SigV4Request s;
    s.method = req.method;
    s.path = req.path;
    for (const auto& [k, v] : req.params) s.query.emplace_back(k, v);
    for (size_t p = 0, e; p <= signed_headers.size(); p = e + 1) {
      e = signed_headers.find(';', p);
      if (e == std::string::npos) e = signed_headers.size();
      std::string name = signed_headers.substr(p, e - p);
      for (size_t i = 0; i < req.get_header_value_count(name); ++i) {
        s.headers.emplace_back(name, req.get_header_value(name, i));
      }
    }
    s.payload_hash = payload_hash;
    SigV4Signer signer({scope[0], "SECRET", ""}, scope[2], scope[3]);
    SigV4Signature mine = signer.Sign(s, req.get_header_value("x-amz-date"));
    if (mine.signature != signature) return "signature mismatch; canonical request:\n" + mine.canonical_request;
    return "";
  }

 private:
  Handler handler_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<Seen> seen_;
};

std::string ErrorXml(const std::string& code, const std::string& message) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code + "</Code><Message>" +
         message + "</Message><RequestId>req-1</RequestId></Error>";
}

S3Config ConfigFor(const std::string& endpoint, int max_retries = 3) {
  S3Config c;
  c.endpoint = endpoint;
  c.bucket = "bucket";
  c.credentials = {"AKID", "SECRET", ""};
  c.retry.max_retries = max_retries;
  c.retry.base_delay_ms = 5;
  c.retry.max_delay_ms = 20;
  c.http.timeout_ms = 10000;
  return c;
}

std::unique_ptr<S3ColdStore> StoreFor(const FakeS3& fake, int max_retries = 3) {
  auto s = S3ColdStore::Open(ConfigFor(fake.endpoint(), max_retries));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

void ExpectAllSigned(const FakeS3& fake) {
  for (const auto& r : fake.seen()) {
    EXPECT_EQ(r.signature_problem, "") << r.method << " " << r.target;
  }
}

// ------------------------------------------------------------------------------------------
// Retries and errors

TEST(S3FakeTest, Retries503TwiceThenSucceeds) {
  std::atomic<int> n{0};
  FakeS3 fake([&](const httplib::Request&, httplib::Response& res) {
    if (++n <= 2) {
      res.status = 503;
      res.set_content(ErrorXml("SlowDown", "Please reduce your request rate."), "application/xml");
    } else {
      res.set_content("payload", "application/octet-stream");
    }
  });
  auto store = StoreFor(fake);
  auto got = store->Get("k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "payload");
  EXPECT_EQ(fake.count(), 3u);
  ExpectAllSigned(fake);
}

TEST(S3FakeTest, Retries429And408AndInternalError) {
  std::atomic<int> n{0};
  FakeS3 fake([&](const httplib::Request&, httplib::Response& res) {
    switch (++n) {
      case 1: res.status = 429; break;
      case 2: res.status = 408; break;
      case 3: res.status = 500; res.set_content(ErrorXml("InternalError", "oops"), "application/xml"); break;
      default: res.status = 200;
    }
  });
  auto store = StoreFor(fake);
  EXPECT_TRUE(store->Put("k", "v").ok());
  EXPECT_EQ(fake.count(), 4u);
}

TEST(S3FakeTest, ForbiddenIsReportedWithCodeAndMessageAndNotRetried) {
  FakeS3 fake([&](const httplib::Request&, httplib::Response& res) {
    res.status = 403;
    res.set_content(ErrorXml("AccessDenied", "Access Denied"), "application/xml");
  });
  auto store = StoreFor(fake);
  Status s = store->Put("some/key", "v");
  EXPECT_EQ(s.code(), Status::Code::kIOError);
  EXPECT_NE(s.message().find("HTTP 403 AccessDenied: Access Denied"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("PUT s3://bucket/some/key"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("req-1"), std::string::npos) << s.message();
  EXPECT_EQ(fake.count(), 1u);
}

TEST(S3FakeTest, ClientErrorsMapToStatusCodes) {
  std::string code;
  int http = 0;
  FakeS3 fake([&](const httplib::Request&, httplib::Response& res) {
    res.status = http;
    if (!code.empty()) res.set_content(ErrorXml(code, "m"), "application/xml");
  });
  auto store = StoreFor(fake);
  struct Case { int http; std::string code; Status::Code want; };
  for (const Case& c : {Case{404, "NoSuchKey", Status::Code::kNotFound},
                        Case{404, "NoSuchBucket", Status::Code::kNotFound},
                        Case{400, "InvalidArgument", Status::Code::kInvalidArgument},
                        Case{400, "BadDigest", Status::Code::kCorruption},
                        Case{409, "OperationAborted", Status::Code::kConflict},
                        Case{403, "QuotaExceeded", Status::Code::kNoSpace},
                        Case{301, "PermanentRedirect", Status::Code::kIOError}}) {
    http = c.http;
    code = c.code;
    size_t before = fake.count();
    Status s = store->Get("k").status();
    EXPECT_EQ(s.code(), c.want) << c.code << ": " << s.ToString();
    EXPECT_NE(s.message().find(c.code), std::string::npos) << s.message();
    EXPECT_EQ(fake.count() - before, 1u) << c.code << " was retried";
  }
  http = 404;  // HEAD has no body: the status alone decides
  code = "";
  EXPECT_EQ(store->Head("k").status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(store->Delete("k").ok());  // deleting a missing key is fine
}

TEST(S3FakeTest, PersistentFailureEndsUnavailableAfterAllAttempts) {
  FakeS3 fake([&](const httplib::Request&, httplib::Response& res) {
    res.status = 500;
    res.set_content(ErrorXml("InternalError", "We encountered an internal error."), "application/xml");
  });
  auto store = StoreFor(fake, /*max_retries=*/2);
  Status s = store->Get("k").status();
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_NE(s.message().find("InternalError"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("gave up after 3 attempts"), std::string::npos) << s.message();
  EXPECT_EQ(fake.count(), 3u);
}

TEST(S3FakeTest, NetworkErrorsAreRetriedThenUnavailable) {
  int port;
  {
    FakeS3 gone([](const httplib::Request&, httplib::Response&) {});
    port = gone.port();
  }  // nothing listens there any more
  auto store = S3ColdStore::Open(ConfigFor("http://127.0.0.1:" + std::to_string(port), 2));
  ASSERT_TRUE(store.ok());
  auto start = std::chrono::steady_clock::now();
  Status s = (*store)->Get("k").status();
  EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("gave up after 3 attempts"), std::string::npos) << s.message();
  // Two backoff sleeps of at least base/2 each happened.
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(5));
}

TEST(S3FakeTest, TotalTimeoutStopsAHungServer) {
  FakeS3 fake([](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    res.status = 200;
  });
  S3Config c = ConfigFor(fake.endpoint(), /*max_retries=*/0);
  c.http.timeout_ms = 300;
  auto store = S3ColdStore::Open(c).value();
  auto start = std::chrono::steady_clock::now();
  Status s = store->Get("k").status();
  EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1200));
}

TEST(S3FakeTest, ConnectionsAreReused) {
  FakeS3 fake([](const httplib::Request&, httplib::Response& res) { res.set_content("x", "text/plain"); });
  auto store = StoreFor(fake);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(store->Get("k").ok());
  EXPECT_EQ(store->http().connections_opened(), 1u);
  EXPECT_EQ(store->http().idle_handles(), 1u);
  ExpectAllSigned(fake);
}

// ------------------------------------------------------------------------------------------
// Reads

TEST(S3FakeTest, RangedReadsVerifyTheLength) {
  const std::string object = "0123456789";
  FakeS3 fake([&](const httplib::Request&, httplib::Response& res) {
    res.set_content(object, "application/octet-stream");  // httplib serves the Range
  });
  auto store = StoreFor(fake);
  auto got = store->GetRange("k", 2, 5);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "23456");
  EXPECT_EQ(fake.seen().back().headers.find("Range")->second, "bytes=2-6");
  Status past = store->GetRange("k", 5, 10).status();  // server sends 5 bytes: not enough
  EXPECT_EQ(past.code(), Status::Code::kInvalidArgument) << past.ToString();
  EXPECT_NE(past.message().find("past the end"), std::string::npos) << past.message();
  EXPECT_EQ(store->GetRange("k", 10, 1).status().code(), Status::Code::kInvalidArgument);  // 416
  EXPECT_EQ(store->GetRange("k", 0, 0).status().code(), Status::Code::kInvalidArgument);
}

TEST(S3FakeTest, RangedReadRejectsAWrongContentRange) {
  std::string content_range;
  FakeS3 fake([&](const httplib::Request&, httplib::Response& res) {
    res.status = 206;
    res.set_header("Content-Range", content_range);
    res.set_content("abcde", "application/octet-stream");
  });
  auto store = StoreFor(fake);
  content_range = "bytes 3-7/100";  // not the bytes that were asked for
  Status s = store->GetRange("k", 0, 5).status();
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  content_range = "garbage";
  s = store->GetRange("k", 0, 5).status();
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_EQ(fake.count(), 2u);  // a bad answer is not retried
}

TEST(S3FakeTest, RangedReadAcceptsA200WithContentRange) {
  // cpp-httplib answers a handler's 200 to a ranged GET with "200 OK" + Content-Range.
  FakeS3 fake([&](const httplib::Request&, httplib::Response& res) {
    res.status = 200;
    res.set_content("0123456789", "application/octet-stream");
  });
  auto store = StoreFor(fake);
  auto got = store->GetRange("k", 3, 4);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "3456");
}

// Answers every connection on 127.0.0.1 with RESPONSE (a raw HTTP message), then closes it.
class RawHttpResponder {
 public:
  explicit RawHttpResponder(std::string response) : response_(std::move(response)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen";
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      while (true) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;  // listening socket shut down
        std::string req;
        char buf[4096];
        while (req.find("\r\n\r\n") == std::string::npos) {
          ssize_t n = ::recv(c, buf, sizeof(buf), 0);
          if (n <= 0) break;
          req.append(buf, static_cast<size_t>(n));
        }
        (void)!::send(c, response_.data(), response_.size(), MSG_NOSIGNAL);
        ::close(c);
      }
    });
  }
  ~RawHttpResponder() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    if (thread_.joinable()) thread_.join();
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  std::string response_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

TEST(S3FakeTest, RangedReadAcceptsAWholeObjectAnswer) {
  // A server that ignores Range sends the whole object: 200 without Content-Range.
  RawHttpResponder server("HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789");
  auto store = S3ColdStore::Open(ConfigFor(server.endpoint())).value();
  auto got = store->GetRange("k", 3, 4);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "3456");
  Status past = store->GetRange("k", 8, 4).status();
  EXPECT_EQ(past.code(), Status::Code::kInvalidArgument) << past.ToString();
  EXPECT_NE(past.message().find("(10 bytes)"), std::string::npos) << past.message();
}

TEST(S3FakeTest, GetVerifiesTheStoredChecksum) {
  std::string stored_body, stored_xxh3;
  FakeS3 fake([&](const httplib::Request& req, httplib::Response& res) {
    if (req.method == "PUT") {
      stored_body = req.body;
      stored_xxh3 = req.get_header_value("x-amz-meta-xxh3");
      res.status = 200;
    } else {
      res.set_header("x-amz-meta-xxh3", stored_xxh3);
      res.set_content(stored_body, "application/octet-stream");
    }
  });
  auto store = StoreFor(fake);
  ASSERT_TRUE(store->Put("k", "important bytes").ok());
  EXPECT_EQ(stored_xxh3, Xxh3Hex("important bytes"));
  EXPECT_EQ(store->Get("k").value(), "important bytes");
  stored_body[0] ^= 1;  // bit rot on the server
  EXPECT_EQ(store->Get("k").status().code(), Status::Code::kCorruption);
  ExpectAllSigned(fake);
}

TEST(S3FakeTest, HeadReportsSizeEtagAndDate) {
  FakeS3 fake([&](const httplib::Request&, httplib::Response& res) {
    res.set_header("ETag", "\"abc\"");
    res.set_header("Last-Modified", "Mon, 12 Oct 2009 17:50:00 GMT");
    res.set_content(std::string(1234, 'x'), "application/octet-stream");
  });
  auto store = StoreFor(fake);
  auto head = store->Head("dir/k");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->key, "dir/k");
  EXPECT_EQ(head->size, 1234u);
  EXPECT_EQ(head->etag, "abc");
  EXPECT_EQ(head->modified_ms, 1255369800000);
  EXPECT_EQ(fake.seen().back().method, "HEAD");
}

TEST(S3FakeTest, ListFollowsContinuationTokensAndDecodesEntities) {
  FakeS3 fake([&](const httplib::Request& req, httplib::Response& res) {
    EXPECT_EQ(req.get_param_value("list-type"), "2");
    EXPECT_EQ(req.get_param_value("prefix"), "tenant/p");
    std::string body = "<ListBucketResult>";
    if (!req.has_param("continuation-token")) {
      body += "<Contents><Key>tenant/p/b</Key><Size>2</Size></Contents>"
              "<Contents><Key>tenant/p/a&amp;x</Key><Size>1</Size></Contents>"
              "<IsTruncated>true</IsTruncated><NextContinuationToken>t&amp;1+/=</NextContinuationToken>";
    } else {
      EXPECT_EQ(req.get_param_value("continuation-token"), "t&1+/=");
      body += "<Contents><Key>tenant/p/c</Key><Size>3</Size><LastModified>2009-10-12T17:50:30.000Z"
              "</LastModified><ETag>&quot;e&quot;</ETag></Contents><IsTruncated>false</IsTruncated>";
    }
    res.set_content(body + "</ListBucketResult>", "application/xml");
  });
  S3Config c = ConfigFor(fake.endpoint());
  c.prefix = "tenant";
  auto store = S3ColdStore::Open(c).value();
  auto list = store->List("p");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].key, "p/a&x");
  EXPECT_EQ((*list)[1].key, "p/b");
  EXPECT_EQ((*list)[2].key, "p/c");
  EXPECT_EQ((*list)[2].size, 3u);
  EXPECT_EQ((*list)[2].etag, "e");
  EXPECT_EQ((*list)[2].modified_ms, 1255369830000);
  EXPECT_EQ(fake.count(), 2u);
  ExpectAllSigned(fake);
}

TEST(S3FakeTest, PendingUploadsArePagedAndAborted) {
  FakeS3 fake([&](const httplib::Request& req, httplib::Response& res) {
    if (req.method == "DELETE") {
      EXPECT_EQ(req.path, "/bucket/tenant/k2");
      EXPECT_EQ(req.get_param_value("uploadId"), "u/2");
      res.status = 204;
      return;
    }
    ASSERT_TRUE(req.has_param("uploads"));
    std::string body = "<ListMultipartUploadsResult>";
    if (!req.has_param("key-marker")) {
      body += "<Upload><Key>tenant/k1</Key><UploadId>u1</UploadId>"
              "<Initiated>2009-10-12T17:50:30.000Z</Initiated></Upload>"
              "<IsTruncated>true</IsTruncated><NextKeyMarker>tenant/k1</NextKeyMarker>"
              "<NextUploadIdMarker>u1</NextUploadIdMarker>";
    } else {
      EXPECT_EQ(req.get_param_value("key-marker"), "tenant/k1");
      EXPECT_EQ(req.get_param_value("upload-id-marker"), "u1");
      body += "<Upload><Key>tenant/k2</Key><UploadId>u/2</UploadId></Upload>"
              "<IsTruncated>false</IsTruncated>";
    }
    res.set_content(body + "</ListMultipartUploadsResult>", "application/xml");
  });
  S3Config c = ConfigFor(fake.endpoint());
  c.prefix = "tenant";
  auto store = S3ColdStore::Open(c).value();
  auto pending = store->ListPendingUploads("");
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].key, "k1");
  EXPECT_EQ((*pending)[0].initiated_ms, 1255369830000);
  EXPECT_EQ((*pending)[1].key, "k2");
  EXPECT_EQ((*pending)[1].upload_id, "u/2");
  EXPECT_TRUE(store->AbortPendingUpload((*pending)[1]).ok());
  ExpectAllSigned(fake);
}

// ------------------------------------------------------------------------------------------
// Multipart

// A minimal multipart server: UploadId "up&1", parts checked and remembered, Complete checks
// the part list. COMPLETE_RESPONSES scripts the answers to successive Complete calls.
class MultipartServer {
 public:
  std::vector<std::function<void(httplib::Response&)>> complete_responses;
  std::map<int, std::string> parts;  // guarded by mu
  std::mutex mu;
  std::atomic<int> completes{0}, aborts{0}, in_flight{0}, max_in_flight{0};
  std::string completed_object;
  std::string complete_problem;

  void Handle(const httplib::Request& req, httplib::Response& res) {
    if (req.method == "POST" && req.has_param("uploads")) {
      res.set_content("<InitiateMultipartUploadResult><Bucket>bucket</Bucket><Key>k</Key>"
                      "<UploadId>up&amp;1</UploadId></InitiateMultipartUploadResult>",
                      "application/xml");
    } else if (req.method == "PUT" && req.has_param("partNumber")) {
      int now = ++in_flight;
      for (int m = max_in_flight.load(); now > m && !max_in_flight.compare_exchange_weak(m, now);) {}
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let uploads overlap
      --in_flight;
      if (req.get_param_value("uploadId") != "up&1") {
        res.status = 404;
        res.set_content(ErrorXml("NoSuchUpload", "bad id"), "application/xml");
        return;
      }
      int n = std::stoi(req.get_param_value("partNumber"));
      {
        std::lock_guard<std::mutex> lock(mu);
        parts[n] = req.body;
      }
      res.set_header("ETag", "\"" + HexEncode(Md5(req.body)) + "\"");
    } else if (req.method == "POST" && req.has_param("uploadId")) {
      int i = completes++;
      CheckCompleteBody(req.body);
      if (i < static_cast<int>(complete_responses.size())) {
        complete_responses[i](res);
        return;
      }
      res.set_content("<CompleteMultipartUploadResult><Bucket>bucket</Bucket><Key>k</Key>"
                      "<ETag></ETag></CompleteMultipartUploadResult>",  // radosgw: empty ETag
                      "application/xml");
    } else if (req.method == "DELETE" && req.has_param("uploadId")) {
      ++aborts;
      res.status = 204;
    } else if (req.method == "HEAD" || req.method == "GET") {
      if (completed_object.empty()) {
        res.status = 404;
      } else {
        res.set_content(completed_object, "application/octet-stream");
      }
    } else {
      res.status = 400;
    }
  }

  void CheckCompleteBody(const std::string& body) {
    auto doc = ParseXml(body);
    if (!doc.ok() || doc->name != "CompleteMultipartUpload") {
      complete_problem = "bad Complete body: " + body;
      return;
    }
    std::lock_guard<std::mutex> lock(mu);
    std::string whole;
    int last = 0;
    auto listed = doc->Children("Part");
    if (listed.size() != parts.size()) complete_problem = "part count differs";
    for (const XmlElement* p : listed) {
      int n = std::stoi(p->ChildText("PartNumber"));
      if (n <= last) complete_problem = "parts not in ascending order";
      last = n;
      if (p->ChildText("ETag") != "\"" + HexEncode(Md5(parts[n])) + "\"") {
        complete_problem = "wrong ETag for part " + std::to_string(n);
      }
      whole += parts[n];
    }
    completed_object = whole;
  }
};

S3Config SmallPartConfig(const FakeS3& fake) {
  S3Config c = ConfigFor(fake.endpoint());
  c.min_part_size = 1000;
  return c;
}

TEST(S3FakeTest, MultipartPartsGoInParallelAndCompleteListsThemInOrder) {
  MultipartServer mp;
  FakeS3 fake([&](const httplib::Request& req, httplib::Response& res) { mp.Handle(req, res); });
  auto store = S3ColdStore::Open(SmallPartConfig(fake)).value();
  auto up = store->StartUpload("big/obj");
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  std::vector<std::string> parts;
  for (int i = 0; i < 6; ++i) parts.push_back(TestBytes(i == 5 ? 10 : 1000, 40 + i));
  std::vector<std::thread> threads;
  std::vector<Status> results(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = (*up)->PutPart(static_cast<int>(i + 1), parts[i]); });
  }
  for (auto& t : threads) t.join();
  for (const Status& s : results) ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_GE(mp.max_in_flight.load(), 2) << "parts were not sent concurrently";
  ASSERT_TRUE((*up)->Complete().ok());
  EXPECT_EQ(mp.complete_problem, "");
  std::string whole;
  for (const auto& p : parts) whole += p;
  EXPECT_TRUE(mp.completed_object == whole);
  EXPECT_EQ(mp.aborts.load(), 0);
  up->reset();
  EXPECT_EQ(mp.aborts.load(), 0);  // completed: the destructor does not abort
  ExpectAllSigned(fake);
  for (const auto& r : fake.seen()) {
    if (r.method == "PUT") {
      EXPECT_NE(r.headers.find("Content-MD5"), r.headers.end());
    }
  }
}

TEST(S3FakeTest, CompleteRetriesAnErrorInsideA200) {
  MultipartServer mp;
  mp.complete_responses.push_back([](httplib::Response& res) {
    res.status = 200;  // S3 may report a failed Complete in a 200 body
    res.set_content(ErrorXml("InternalError", "try again"), "application/xml");
  });
  FakeS3 fake([&](const httplib::Request& req, httplib::Response& res) { mp.Handle(req, res); });
  auto store = S3ColdStore::Open(SmallPartConfig(fake)).value();
  auto up = store->StartUpload("obj").value();
  ASSERT_TRUE(up->PutPart(1, "only part").ok());
  ASSERT_TRUE(up->Complete().ok());
  EXPECT_EQ(mp.completes.load(), 2);
}

TEST(S3FakeTest, CompleteWhoseResponseWasLostIsConfirmedByHead) {
  MultipartServer mp;
  // The first Complete commits but its answer is lost (500); the retry finds no upload.
  mp.complete_responses.push_back([](httplib::Response& res) { res.status = 500; });
  mp.complete_responses.push_back([](httplib::Response& res) {
    res.status = 404;
    res.set_content(ErrorXml("NoSuchUpload", "The specified upload does not exist."), "application/xml");
  });
  FakeS3 fake([&](const httplib::Request& req, httplib::Response& res) { mp.Handle(req, res); });
  auto store = S3ColdStore::Open(SmallPartConfig(fake)).value();
  auto up = store->StartUpload("obj").value();
  ASSERT_TRUE(up->PutPart(1, TestBytes(1000, 1)).ok());
  ASSERT_TRUE(up->PutPart(2, "tail").ok());
  Status s = up->Complete();
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(mp.completes.load(), 2);
  EXPECT_EQ(fake.seen().back().method, "HEAD");
}

TEST(S3FakeTest, UnfinishedUploadIsAbortedByItsDestructor) {
  MultipartServer mp;
  FakeS3 fake([&](const httplib::Request& req, httplib::Response& res) { mp.Handle(req, res); });
  auto store = S3ColdStore::Open(SmallPartConfig(fake)).value();
  {
    auto up = store->StartUpload("obj").value();
    ASSERT_TRUE(up->PutPart(1, "x").ok());
  }
  EXPECT_EQ(mp.aborts.load(), 1);
  EXPECT_EQ(fake.seen().back().method, "DELETE");
  EXPECT_NE(fake.seen().back().target.find("uploadId=up%261"), std::string::npos);
}

TEST(S3FakeTest, CompleteChecksPartSizesBeforeSending) {
  MultipartServer mp;
  FakeS3 fake([&](const httplib::Request& req, httplib::Response& res) { mp.Handle(req, res); });
  auto store = S3ColdStore::Open(SmallPartConfig(fake)).value();
  auto up = store->StartUpload("obj").value();
  ASSERT_TRUE(up->PutPart(1, "small").ok());
  ASSERT_TRUE(up->PutPart(2, "tail").ok());
  Status s = up->Complete();
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("below the minimum part size"), std::string::npos) << s.message();
  EXPECT_EQ(mp.completes.load(), 0);
}

// ------------------------------------------------------------------------------------------
// What goes on the wire

TEST(S3FakeTest, PutSendsChecksumsAndSignsThePayload) {
  FakeS3 fake([](const httplib::Request&, httplib::Response& res) { res.status = 200; });
  auto store = StoreFor(fake);
  ASSERT_TRUE(store->Put("a/b", "body bytes").ok());
  auto r = fake.seen().back();
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.path, "/bucket/a/b");
  EXPECT_EQ(r.headers.find("x-amz-content-sha256")->second, Sha256Hex("body bytes"));
  EXPECT_EQ(r.headers.find("Content-MD5")->second, Md5Base64("body bytes"));
  EXPECT_EQ(r.headers.find("Host")->second, "127.0.0.1:" + std::to_string(fake.port()));
  EXPECT_EQ(r.headers.count("Expect"), 0u);
  EXPECT_EQ(r.headers.find("Content-Length")->second, "10");
  EXPECT_EQ(r.body, "body bytes");
  ExpectAllSigned(fake);
}

TEST(S3FakeTest, UnsignedPayloadAndSessionToken) {
  FakeS3 fake([](const httplib::Request&, httplib::Response& res) { res.status = 200; });
  S3Config c = ConfigFor(fake.endpoint());
  c.sign_payload = false;
  c.credentials.session_token = "TOKEN/123";
  auto store = S3ColdStore::Open(c).value();
  ASSERT_TRUE(store->Put("k", "data").ok());
  auto r = fake.seen().back();
  EXPECT_EQ(r.headers.find("x-amz-content-sha256")->second, "UNSIGNED-PAYLOAD");
  EXPECT_EQ(r.headers.find("Content-MD5")->second, Md5Base64("data"));
  EXPECT_EQ(r.headers.find("x-amz-security-token")->second, "TOKEN/123");
  EXPECT_NE(r.headers.find("Authorization")->second.find("x-amz-security-token"), std::string::npos);
  ExpectAllSigned(fake);
}

TEST(S3FakeTest, VirtualHostedAddressing) {
  FakeS3 fake([](const httplib::Request&, httplib::Response& res) { res.set_content("v", "text/plain"); });
  S3Config c = ConfigFor("http://localhost:" + std::to_string(fake.port()));
  c.path_style = false;
  auto store = S3ColdStore::Open(c).value();
  auto got = store->Get("dir/k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();  // curl resolves *.localhost to loopback
  auto r = fake.seen().back();
  EXPECT_EQ(r.path, "/dir/k");
  EXPECT_EQ(r.headers.find("Host")->second, "bucket.localhost:" + std::to_string(fake.port()));
  ExpectAllSigned(fake);
}

// ------------------------------------------------------------------------------------------
// A real S3 (Ceph RGW)

struct RealS3Env {
  std::string endpoint, access_key, secret_key, region, bucket;
};

std::optional<RealS3Env> RealS3() {
  auto env = [](const char* name, const char* fallback_name, const char* fallback) {
    const char* v = std::getenv(name);
    if ((v == nullptr || !*v) && fallback_name) v = std::getenv(fallback_name);
    return std::string(v && *v ? v : fallback);
  };
  RealS3Env e;
  e.endpoint = env("STRATA_TEST_S3_ENDPOINT", nullptr, "");
  if (e.endpoint.empty()) return std::nullopt;
  e.access_key = env("STRATA_TEST_S3_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "");
  e.secret_key = env("STRATA_TEST_S3_SECRET_KEY", "AWS_SECRET_ACCESS_KEY", "");
  e.region = env("STRATA_TEST_S3_REGION", "AWS_DEFAULT_REGION", "us-east-1");
  e.bucket = env("STRATA_TEST_S3_BUCKET", nullptr, "strata-test");
  return e;
}

constexpr const char* kNoRealS3 =
    "STRATA_TEST_S3_ENDPOINT is not set: run scripts/test-s3.sh (starts a local Ceph) or set "
    "STRATA_TEST_S3_ENDPOINT/_ACCESS_KEY/_SECRET_KEY[/_REGION/_BUCKET] for an S3 to test against";

std::string UniquePrefix() {
  static std::atomic<int> counter{0};
  std::mt19937_64 rng{std::random_device{}()};
  return "t-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + "-" +
         HexEncode(std::string(reinterpret_cast<const char*>(&rng), 4));
}

ColdStoreOptions RealOptions(const RealS3Env& e, const std::string& prefix) {
  ColdStoreOptions o;
  o.url = "s3://" + e.bucket + "/" + prefix;
  o.endpoint = e.endpoint;
  o.access_key = e.access_key;
  o.secret_key = e.secret_key;
  o.region = e.region;
  return o;
}

// Creates the test bucket once per process.
Status EnsureBucket(const RealS3Env& e) {
  static std::once_flag once;
  static Status status;
  std::call_once(once, [&] {
    auto config = S3Config::FromOptions(RealOptions(e, "x"));
    if (!config.ok()) {
      status = config.status();
      return;
    }
    auto store = S3ColdStore::Open(*config);
    status = store.ok() ? (*store)->CreateBucket() : store.status();
  });
  return status;
}

void RemoveEverything(const ColdStoreOptions& o) {
  auto store = OpenColdStore(o);
  if (!store.ok()) return;
  if (auto list = (*store)->List(""); list.ok()) {
    for (const auto& obj : *list) (void)(*store)->Delete(obj.key);
  }
  if (auto pending = (*store)->ListPendingUploads(""); pending.ok()) {
    for (const auto& u : *pending) (void)(*store)->AbortPendingUpload(u);
  }
}

ColdStoreTarget RealS3Target() {
  ColdStoreTarget t;
  t.name = "S3";
  t.fresh = [](ColdStoreOptions* o, std::string* why) {
    auto e = RealS3();
    if (!e) {
      *why = kNoRealS3;
      return false;
    }
    Status s = EnsureBucket(*e);
    EXPECT_TRUE(s.ok()) << "creating bucket " << e->bucket << ": " << s.ToString();
    *o = RealOptions(*e, UniquePrefix());
    return true;
  };
  t.cleanup = RemoveEverything;
  return t;
}

INSTANTIATE_TEST_SUITE_P(RealS3, ColdStoreConformance, ::testing::Values(RealS3Target()),
                         ConformanceTargetName);

class RealS3Test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto e = RealS3();
    if (!e) GTEST_SKIP() << kNoRealS3;
    env_ = *e;
    ASSERT_TRUE(EnsureBucket(env_).ok());
    options_ = RealOptions(env_, UniquePrefix());
  }
  void TearDown() override {
    if (!options_.url.empty()) RemoveEverything(options_);
  }
  std::unique_ptr<S3ColdStore> Open(const std::function<void(S3Config&)>& tweak = {}) {
    auto c = S3Config::FromOptions(options_);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (tweak) tweak(*c);
    auto s = S3ColdStore::Open(*c);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  RealS3Env env_;
  ColdStoreOptions options_;
};

TEST_F(RealS3Test, ListingsPageWithContinuationTokens) {
  auto store = Open([](S3Config& c) { c.list_page_size = 2; });
  ASSERT_TRUE(store);
  std::vector<std::string> want;
  for (int i = 0; i < 7; ++i) {
    want.push_back("page/k" + std::to_string(i));
    ASSERT_TRUE(store->Put(want.back(), "v").ok());
  }
  auto list = store->List("page/");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  std::vector<std::string> keys;
  for (const auto& o : *list) keys.push_back(o.key);
  EXPECT_EQ(keys, want);

  std::vector<std::unique_ptr<ObjectUpload>> uploads;
  for (int i = 0; i < 3; ++i) uploads.push_back(store->StartUpload("up/k" + std::to_string(i)).value());
  auto pending = store->ListPendingUploads("up/");
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  EXPECT_EQ(pending->size(), 3u);
}

TEST_F(RealS3Test, WrongSecretIsRejectedWithS3sReason) {
  auto store = Open([](S3Config& c) { c.credentials.secret_key = "not-the-secret"; });
  ASSERT_TRUE(store);
  Status s = store->Put("k", "v");
  EXPECT_EQ(s.code(), Status::Code::kIOError) << s.ToString();
  EXPECT_NE(s.message().find("HTTP 403 SignatureDoesNotMatch"), std::string::npos) << s.message();
}

TEST_F(RealS3Test, MissingBucketIsNotFound) {
  auto store = Open([](S3Config& c) { c.bucket = "strata-no-such-bucket"; });
  ASSERT_TRUE(store);
  Status s = store->Put("k", "v");
  EXPECT_EQ(s.code(), Status::Code::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find("NoSuchBucket"), std::string::npos) << s.message();
}

TEST_F(RealS3Test, UnsignedPayloadIsAccepted) {
  auto store = Open([](S3Config& c) { c.sign_payload = false; });
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Put("unsigned", "data").ok());
  EXPECT_EQ(store->Get("unsigned").value(), "data");
}

TEST_F(RealS3Test, VirtualHostedAddressing) {
  const std::string local = "http://127.0.0.1:";
  if (env_.endpoint.rfind(local, 0) != 0) GTEST_SKIP() << "needs an endpoint on 127.0.0.1";
  // radosgw serves virtual-hosted requests for "rgw dns name = localhost" (ceph-dev.sh).
  auto store = Open([&](S3Config& c) {
    c.endpoint = "http://localhost:" + env_.endpoint.substr(local.size());
    c.path_style = false;
  });
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Put("vhost/k", "via bucket.localhost").ok());
  EXPECT_EQ(store->Get("vhost/k").value(), "via bucket.localhost");
  auto list = store->List("vhost/");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(list->size(), 1u);
}

TEST_F(RealS3Test, BucketsAreCreatedIdempotentlyAndDeletedWhenEmpty) {
  const std::string bucket = "strata-bucket-" + std::to_string(getpid());
  auto store = Open([&](S3Config& c) {
    c.bucket = bucket;
    c.prefix.clear();
  });
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->CreateBucket().ok());
  ASSERT_TRUE(store->CreateBucket().ok());  // again: still fine
  ASSERT_TRUE(store->Put("k", "v").ok());
  Status not_empty = store->DeleteBucket();
  EXPECT_EQ(not_empty.code(), Status::Code::kConflict) << not_empty.ToString();
  EXPECT_NE(not_empty.message().find("BucketNotEmpty"), std::string::npos) << not_empty.message();
  ASSERT_TRUE(store->Delete("k").ok());
  ASSERT_TRUE(store->DeleteBucket().ok());
  EXPECT_TRUE(store->DeleteBucket().ok());  // already gone
  EXPECT_EQ(store->Head("k").status().code(), Status::Code::kNotFound);
}

TEST_F(RealS3Test, ConnectionsAreReused) {
  auto store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Put("ka", "v").ok());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(store->Head("ka").ok());
  EXPECT_EQ(store->http().connections_opened(), 1u);
}

}  // namespace
}  // namespace strata
