// The request-line repair of the HTTP front (unencoded '?' in the query) and the table of
// allowed methods behind 405 answers.
#include <gtest/gtest.h>

#include "net/web/allowed_methods.h"
#include "net/web/http_front.h"

namespace strata::web {
namespace {

TEST(EscapeExtraQueryMarksTest, EncodesEveryQuestionMarkAfterTheFirst) {
  std::string buf = "GET /dicomweb/studies?PatientName=D?E*&PatientID=?1 HTTP/1.1\r\nHost: x?y\r\n\r\n";
  EXPECT_EQ(EscapeExtraQueryMarks(&buf, 0), 2u);
  EXPECT_EQ(buf, "GET /dicomweb/studies?PatientName=D%3FE*&PatientID=%3F1 HTTP/1.1\r\nHost: x?y\r\n\r\n");
}

TEST(EscapeExtraQueryMarksTest, LeavesOrdinaryRequestsAndLaterRequestsAlone) {
  const std::string plain = "GET /dicomweb/studies?PatientID=1 HTTP/1.1\r\n\r\n";
  std::string buf = plain;
  EXPECT_EQ(EscapeExtraQueryMarks(&buf, 0), 0u);
  EXPECT_EQ(buf, plain);
  std::string none = "GET / HTTP/1.1\r\n\r\n";
  EXPECT_EQ(EscapeExtraQueryMarks(&none, 0), 0u);
  // Only the request line at POS is touched (a pipelined request after an earlier one).
  std::string two = "GET /a?b?c HTTP/1.1\r\n\r\nGET /d?e?f HTTP/1.1\r\n\r\n";
  const size_t second = two.find("GET /d");
  EXPECT_EQ(EscapeExtraQueryMarks(&two, second), 1u);
  EXPECT_EQ(two, "GET /a?b?c HTTP/1.1\r\n\r\nGET /d?e%3Ff HTTP/1.1\r\n\r\n");
  std::string partial = "GET /a?b?c HTTP/1.1";  // no line end yet
  EXPECT_EQ(EscapeExtraQueryMarks(&partial, 0), 0u);
}

TEST(AllowedMethodsTest, StowResourcesTakePostResourcesTakeDeleteTheRestOnlyReads) {
  EXPECT_EQ(AllowedMethods("/dicomweb/studies"), "GET, POST, OPTIONS");
  EXPECT_EQ(AllowedMethods("/dicomweb/studies/1.2.3"), "GET, POST, DELETE, OPTIONS");
  EXPECT_EQ(AllowedMethods("/dicomweb/studies/1.2.3/series/1.2.4"), "GET, DELETE, OPTIONS");
  EXPECT_EQ(AllowedMethods("/dicomweb/studies/1.2.3/series/1.2.4/instances/1.2.5"), "GET, DELETE, OPTIONS");
  EXPECT_EQ(AllowedMethods("/dicomweb/studies/1.2.3/metadata"), "GET, OPTIONS");
  EXPECT_EQ(AllowedMethods("/dicomweb/series"), "GET, OPTIONS");
  EXPECT_EQ(AllowedMethods("/wado"), "GET, OPTIONS");
  EXPECT_EQ(AllowedMethods("/api/studies"), "GET, OPTIONS");
  EXPECT_EQ(AllowedMethods("/api/studies/1.2.3"), "PUT, OPTIONS");
  EXPECT_EQ(AllowedMethods("/api/studies/1.2.3/tiers"), "GET, OPTIONS");
  EXPECT_EQ(AllowedMethods("/api/patients/merge"), "POST, OPTIONS");
  EXPECT_EQ(AllowedMethods("/assets/app.js"), "");
}

}  // namespace
}  // namespace strata::web
