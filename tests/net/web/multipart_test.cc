#include "net/web/multipart.h"

#include <gtest/gtest.h>

#include <vector>

namespace strata::web {
namespace {

struct Collected {
  std::vector<std::map<std::string, std::string>> headers;
  std::vector<std::string> bodies;
  int ends = 0;
};

MultipartReader::Callbacks Collect(Collected* c) {
  return {[c](const std::map<std::string, std::string>& h) {
            c->headers.push_back(h);
            c->bodies.emplace_back();
            return Status::OK();
          },
          [c](std::string_view d) {
            c->bodies.back().append(d);
            return Status::OK();
          },
          [c]() {
            ++c->ends;
            return Status::OK();
          }};
}

std::string Body(const std::string& b, const std::vector<std::string>& parts) {
  std::string out = "preamble to ignore\r\n";
  for (const auto& p : parts) out += PartHeader(b, "application/dicom") + p + PartEnd();
  return out + BodyEnd(b) + "epilogue";
}

TEST(MultipartTest, SplitsAtEveryPosition) {
  // Part bodies that contain near-misses of the delimiter and CRLFs.
  const std::vector<std::string> parts = {std::string("DICM\0\r\n--bound\r\n-", 18), "", "x\r\n--boundar",
                                          std::string(5000, 'a')};
  const std::string body = Body("boundary", parts);
  for (size_t split = 0; split <= body.size(); split += (split < 200 ? 1 : 97)) {
    Collected c;
    MultipartReader r("boundary", Collect(&c));
    ASSERT_TRUE(r.Feed(std::string_view(body).substr(0, split)).ok());
    ASSERT_TRUE(r.Feed(std::string_view(body).substr(split)).ok());
    ASSERT_TRUE(r.Finish().ok()) << split;
    ASSERT_EQ(c.bodies, parts) << "split at " << split;
    EXPECT_EQ(c.ends, 4);
    EXPECT_EQ(c.headers[0].at("content-type"), "application/dicom");
  }
}

TEST(MultipartTest, ByteByByte) {
  const std::vector<std::string> parts = {"one", "two\r\n"};
  const std::string body = Body("b", parts);
  Collected c;
  MultipartReader r("b", Collect(&c));
  for (char ch : body) ASSERT_TRUE(r.Feed(std::string_view(&ch, 1)).ok());
  ASSERT_TRUE(r.Finish().ok());
  EXPECT_EQ(c.bodies, parts);
}

TEST(MultipartTest, BodyStartingWithBoundaryAndHeaderlessParts) {
  const std::string body = "--b\r\n\r\nabc\r\n--b\r\nX-A: 1\r\nContent-Type: Application/DICOM\r\n\r\ndef\r\n--b--";
  Collected c;
  MultipartReader r("b", Collect(&c));
  ASSERT_TRUE(r.Feed(body).ok());
  ASSERT_TRUE(r.Finish().ok());
  EXPECT_EQ(c.bodies, (std::vector<std::string>{"abc", "def"}));
  EXPECT_TRUE(c.headers[0].empty());
  EXPECT_EQ(c.headers[1].at("x-a"), "1");
}

TEST(MultipartTest, TruncatedBodyFails) {
  const std::string body = Body("b", {"abc"});
  Collected c;
  MultipartReader r("b", Collect(&c));
  ASSERT_TRUE(r.Feed(body.substr(0, body.size() - 14)).ok());
  EXPECT_FALSE(r.Finish().ok());
}

TEST(MultipartTest, GarbageAfterBoundaryFails) {
  Collected c;
  MultipartReader r("b", Collect(&c));
  EXPECT_FALSE(r.Feed("--b\r\n\r\nabc\r\n--bXYZ\r\n").ok());
  EXPECT_FALSE(r.Finish().ok());
}

TEST(MultipartTest, CallbackErrorStops) {
  MultipartReader r("b", {[](const auto&) { return Status::InvalidArgument("no"); }, nullptr, nullptr});
  Status s = r.Feed("--b\r\n\r\nabc\r\n--b--");
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace strata::web
