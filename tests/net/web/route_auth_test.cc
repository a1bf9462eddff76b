// The route table with auth on: every route the server registered (WebServer::Routes, fed by
// the Router every handler group registers through) is requested over real HTTP without
// credentials, with wrong ones, with an identity lacking the route's role, and with the
// right one. None may answer without an identity; none may let a missing role through.
#include <gtest/gtest.h>

#include <httplib.h>

#include <regex>

#include "../../archive/temp_archive_test.h"
#include "net/web/router.h"
#include "net/web/web_server.h"
#include "util/audit_log.h"
#include "util/file_util.h"

namespace strata {
namespace {

// A concrete path matching PATTERN: UID groups become 1.2.3, optional groups are dropped.
std::string SamplePath(const std::string& pattern) {
  std::string p = pattern;
  auto replace = [&](const std::string& from, const std::string& to) {
    for (size_t pos; (pos = p.find(from)) != std::string::npos;) p.replace(pos, from.size(), to);
  };
  replace("(?:/([^/?]+))?", "");
  replace("([^/?]+)", "1.2.3");
  replace("[^/]+", "1.2.3");
  replace("([A-Za-z0-9_.-]+)", "app.js");
  replace("(?:/.*)?", "/x");
  replace("(/.*)?", "/x");
  replace(".*", "x");
  if (p.size() > 2 && p.compare(p.size() - 2, 2, "/?") == 0) p.resize(p.size() - 2);
  return p;
}

std::string BasicHeader(const std::string& user_pass) {
  return "Basic " + httplib::make_basic_authentication_header(user_pass.substr(0, user_pass.find(':')), user_pass.substr(user_pass.find(':') + 1)).second.substr(6);
}

class RouteAuthTest : public TempArchiveTest {
 protected:
  RouteAuthTest() : TempArchiveTest("routeauth") {}

  void StartServer(bool auth) {
    auto log = AuditLog::Open({(dir_ / "audit.jsonl").string(), "", "strata"});
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    audit_ = std::move(log).value();
    WebOptions w;
    w.port = 0;
    w.threads = 4;
    if (auth) {
      w.users = {{"reader", "read:rpw"}, {"writer", "write:wpw"}, {"deleter", "delete:dpw"}, {"boss", "admin:bpw"}};
      w.tokens = {{"viewer", "read:VIEWER-TOKEN"}};
    }
    w.audit = audit_.get();
    server_ = std::make_unique<WebServer>(archive_.get(), w);
    auto port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = port.value();
  }

  int Send(const std::string& method, const std::string& path, const std::string& authorization) {
    httplib::Client c("127.0.0.1", port_);
    httplib::Headers h;
    if (!authorization.empty()) h.emplace("Authorization", authorization);
    auto status = [](const httplib::Result& r) { return r ? r->status : -1; };
    if (method == "GET") return status(c.Get(path, h));
    if (method == "POST") return status(c.Post(path, h, "x", "multipart/related; type=\"application/dicom\"; boundary=b"));
    if (method == "PUT") return status(c.Put(path, h, "x", "application/json"));
    if (method == "PATCH") return status(c.Patch(path, h, "x", "application/json"));
    if (method == "DELETE") return status(c.Delete(path, h));
    return -1;
  }

  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
    audit_.reset();
    TempArchiveTest::TearDown();
  }

  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<WebServer> server_;
  int port_ = 0;
};

TEST(RouteSamplePath, MatchesItsPattern) {
  for (const char* p : {R"(/dicomweb/studies(?:/([^/?]+))?/?)", R"(/assets/([A-Za-z0-9_.-]+))", R"(/api/.*)",
                        R"(/dicomweb(?:/.*)?)"})
    EXPECT_TRUE(std::regex_match(SamplePath(p), std::regex(p))) << p << " -> " << SamplePath(p);
}

TEST_F(RouteAuthTest, NoRouteIsUnprotected) {
  ASSERT_NO_FATAL_FAILURE(StartServer(true));
  const auto routes = server_->Routes();
  ASSERT_GE(routes.size(), 40u);  // DICOMweb, WADO-URI, delete, API, page, 405 refusers
  std::set<std::string> methods;
  int checked = 0;
  for (const auto& [method, pattern] : routes) {
    methods.insert(method);
    const std::string path = SamplePath(pattern);
    ASSERT_TRUE(std::regex_match(path, std::regex(pattern))) << pattern << " -> " << path;
    SCOPED_TRACE(method + " " + path + "  (route " + pattern + ")");
    EXPECT_EQ(Send(method, path, ""), 401);
    EXPECT_EQ(Send(method, path, BasicHeader("reader:Xq9-bad-pass")), 401);
    EXPECT_EQ(Send(method, path, "Bearer NOT-A-TOKEN"), 401);
    EXPECT_EQ(Send(method, path, "Digest x"), 401);
    const bool read = method == "GET";
    // Sign-in/out (/api/session) needs an identity, any identity (net/web/session.h).
    const bool any_identity = pattern == "/api/session";
    // Without the route's role: 403.
    if (any_identity) {
      EXPECT_NE(Send(method, path, BasicHeader("writer:wpw")), 403);
      EXPECT_NE(Send(method, path, BasicHeader("reader:rpw")), 403);
    } else if (read) {
      EXPECT_EQ(Send(method, path, BasicHeader("writer:wpw")), 403);
    } else {
      EXPECT_EQ(Send(method, path, BasicHeader("reader:rpw")), 403);
      EXPECT_EQ(Send(method, path, "Bearer VIEWER-TOKEN"), 403);
    }
    // With it: past authorization (the handler's own answer: 200, 204, 400, 404, 405, 415 ...).
    const std::string right = read ? "Bearer VIEWER-TOKEN"
                              : method == "DELETE" ? BasicHeader("deleter:dpw") : BasicHeader("writer:wpw");
    const int s = Send(method, path, right);
    EXPECT_NE(s, 401);
    EXPECT_NE(s, 403);
    EXPECT_GT(s, 0);
    EXPECT_NE(Send(method, path, BasicHeader("boss:bpw")), 403);
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(routes.size()));
  EXPECT_TRUE(methods.count("GET") && methods.count("POST") && methods.count("DELETE")) << methods.size();
  // A path no route serves is refused too, before the 404.
  EXPECT_EQ(Send("GET", "/no/such/thing", ""), 401);

  // The refusals are in the audit trail, without any secret.
  server_->Stop();
  audit_.reset();
  auto text = ReadFile((dir_ / "audit.jsonl").string());
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find(R"("action":"reject")"), std::string::npos);
  EXPECT_NE(text->find(R"("action":"deny")"), std::string::npos);
  EXPECT_NE(text->find(R"("UserID":"reader")"), std::string::npos);
  for (const char* secret : {"rpw", "wpw", "dpw", "bpw", "VIEWER-TOKEN", "Xq9-bad-pass"})
    EXPECT_EQ(text->find(secret), std::string::npos) << secret;
}

TEST_F(RouteAuthTest, WithAuthOffEveryRouteAnswersWithoutCredentials) {
  ASSERT_NO_FATAL_FAILURE(StartServer(false));
  for (const auto& [method, pattern] : server_->Routes()) {
    const int s = Send(method, SamplePath(pattern), "");
    EXPECT_NE(s, 401) << method << " " << pattern;
    EXPECT_NE(s, 403) << method << " " << pattern;
  }
}

TEST(RouterActions, ByMethodAndPattern) {
  EXPECT_EQ(web::ActionOf("GET", R"(/dicomweb/studies/?)"), "query");
  EXPECT_EQ(web::ActionOf("GET", "/dicomweb/studies/([^/?]+)/series/?"), "query");
  EXPECT_EQ(web::ActionOf("GET", "/dicomweb/studies/([^/?]+)/metadata"), "retrieve");
  EXPECT_EQ(web::ActionOf("GET", "/wado"), "retrieve");
  EXPECT_EQ(web::ActionOf("GET", "/api/stats"), "query");
  EXPECT_EQ(web::ActionOf("GET", "/assets/([A-Za-z0-9_.-]+)"), "page");
  EXPECT_EQ(web::ActionOf("POST", R"(/dicomweb/studies(?:/([^/?]+))?/?)"), "store");
  EXPECT_EQ(web::ActionOf("DELETE", R"(/dicomweb/studies/([^/?]+)/?)"), "delete");
}

}  // namespace
}  // namespace strata
