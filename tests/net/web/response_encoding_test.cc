// gzip of DICOM JSON answers: who gets it (Accept-Encoding with q-values), what is left alone
// (small bodies, other types, HEAD, an existing coding), and that the bytes inflate back.
#include "net/web/response_encoding.h"

#include <zlib.h>

#include <gtest/gtest.h>

#include <string>

namespace strata::web {
namespace {

std::string Gunzip(const std::string& gz) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

std::string Json(size_t n) {
  std::string s = "[";
  for (size_t i = 0; s.size() < n; ++i) s += "{\"00080018\":{\"vr\":\"UI\",\"Value\":[\"1.2.3." + std::to_string(i) + "\"]}},";
  s.back() = ']';
  return s;
}

TEST(AcceptsGzip, QValuesAndWildcards) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("deflate, gzip;q=0.5, br"));
  EXPECT_TRUE(AcceptsGzip("GZIP"));
  EXPECT_TRUE(AcceptsGzip("*"));
  EXPECT_TRUE(AcceptsGzip("x-gzip"));
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_FALSE(AcceptsGzip("identity"));
  EXPECT_FALSE(AcceptsGzip("br, deflate"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip; q=0.0"));
  EXPECT_FALSE(AcceptsGzip("gzipped"));
}

TEST(GzipDicomJson, EncodesLargeDicomJsonForGzipClients) {
  httplib::Request req;
  req.method = "GET";
  req.headers.emplace("Accept-Encoding", "gzip, deflate");
  httplib::Response res;
  const std::string body = Json(100 * 1024);
  res.set_content(body, "application/dicom+json");
  res.set_header("Vary", "Origin");
  GzipDicomJson(req, res);
  EXPECT_EQ(res.get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(res.get_header_value("Vary"), "Origin, Accept-Encoding");
  EXPECT_LT(res.body.size(), body.size() / 5);
  EXPECT_EQ(Gunzip(res.body), body);
}

TEST(GzipDicomJson, LeavesEverythingElseAlone) {
  const std::string big = Json(4096);
  auto unchanged = [&](const char* method, const char* accept, const std::string& body, const char* type,
                       bool coded) {
    httplib::Request req;
    req.method = method;
    if (accept) req.headers.emplace("Accept-Encoding", accept);
    httplib::Response res;
    res.set_content(body, type);
    if (coded) res.set_header("Content-Encoding", "br");
    GzipDicomJson(req, res);
    return res.body == body && res.get_header_value("Content-Encoding") == (coded ? "br" : "");
  };
  EXPECT_TRUE(unchanged("GET", nullptr, big, "application/dicom+json", false));       // not asked
  EXPECT_TRUE(unchanged("GET", "gzip;q=0", big, "application/dicom+json", false));    // refused
  EXPECT_TRUE(unchanged("GET", "gzip", Json(200), "application/dicom+json", false));  // too small
  EXPECT_TRUE(unchanged("GET", "gzip", big, "application/dicom", false));             // not JSON
  EXPECT_TRUE(unchanged("HEAD", "gzip", big, "application/dicom+json", false));
  EXPECT_TRUE(unchanged("GET", "gzip", big, "application/dicom+json", true));         // coded already
}

}  // namespace
}  // namespace strata::web
