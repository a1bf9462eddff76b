// The OHIF Viewer's file serving (prefix rewrite, SPA fallback, MIME types, caching, path
// safety) over a real cpp-httplib server and client, the converter's failures in plain words,
// and the site time zone setting.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <httplib.h>

#include "net/web/migration_errors.h"
#include "net/web/site_time_zone.h"
#include "net/web/viewer.h"

namespace strata::web {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& p, const std::string& body) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << body;
}

class ViewerFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("strata-viewer-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    Write(dir_ / "index.html",
          "<script>window.PUBLIC_URL=\"/\"</script><script src=\"/app-config.js\"></script>"
          "<script defer src=\"/app.bundle.0123456789abcdef.js\"></script><link href=\"/app.bundle.css\">");
    Write(dir_ / "app.bundle.0123456789abcdef.js", "__webpack_require__.p = \"/\";\nconsole.log(1);\n");
    Write(dir_ / "app.bundle.css", "@font-face{src:url(/a34f9d1faa5f3315.woff2)}");
    Write(dir_ / "5130ccb17e3f3f5b.wasm", std::string("\0asm\1\0\0\0", 8));
    Write(dir_ / "assets" / "favicon.ico", "ico");
    Write(dir_ / ".hidden", "secret");
    Write(dir_.parent_path() / "outside.txt", "outside");
    auto v = ViewerFiles::Open({dir_.string()});
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    files_ = std::move(v).value();
    router_ = std::make_unique<Router>(server_, &policy_, nullptr);  // no auth configured: open
    RegisterViewer(*router_, files_.get(), "");
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  void TearDown() override {
    server_.stop();
    thread_.join();
    fs::remove_all(dir_);
  }
  httplib::Result Get(const std::string& path, httplib::Headers h = {{"Accept-Encoding", "identity"}}) {
    httplib::Client c("127.0.0.1", port_);
    return c.Get(path.c_str(), h);
  }

  fs::path dir_;
  AccessPolicy policy_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<ViewerFiles> files_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(ViewerFilesTest, IndexAndRoutesAreRewrittenForTheViewerPrefix) {
  for (const char* path : {"/viewer", "/viewer/", "/viewer?StudyInstanceUIDs=1.2.3", "/viewer/segmentation"}) {
    auto r = Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(r->get_header_value("Cache-Control"), "no-cache");
    EXPECT_NE(r->body.find("window.PUBLIC_URL=\"/viewer/\""), std::string::npos) << r->body;
    EXPECT_NE(r->body.find("src=\"/viewer/app.bundle.0123456789abcdef.js\""), std::string::npos);
    EXPECT_NE(r->body.find("href=\"/viewer/app.bundle.css\""), std::string::npos);
    EXPECT_EQ(r->body.find("src=\"/app"), std::string::npos);
  }
}

TEST_F(ViewerFilesTest, BundlesGetThePublicPathTypesAndCaching) {
  auto js = Get("/viewer/app.bundle.0123456789abcdef.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js->get_header_value("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(js->body, "__webpack_require__.p = \"/viewer/\";\nconsole.log(1);\n");
  auto again = Get("/viewer/app.bundle.0123456789abcdef.js",
                   {{"If-None-Match", js->get_header_value("ETag")}, {"Accept-Encoding", "identity"}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  auto gz = Get("/viewer/app.bundle.0123456789abcdef.js", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(gz);
  EXPECT_EQ(gz->get_header_value("Content-Encoding"), "gzip");
  EXPECT_NE(gz->get_header_value("ETag"), js->get_header_value("ETag"));

  auto css = Get("/viewer/app.bundle.css");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->body, "@font-face{src:url(/viewer/a34f9d1faa5f3315.woff2)}");
  EXPECT_EQ(css->get_header_value("Cache-Control"), "no-cache");  // no content hash in its name

  auto wasm = Get("/viewer/5130ccb17e3f3f5b.wasm");
  ASSERT_TRUE(wasm);
  EXPECT_EQ(wasm->get_header_value("Content-Type"), "application/wasm");
  EXPECT_EQ(wasm->body, std::string("\0asm\1\0\0\0", 8));
  EXPECT_EQ(wasm->get_header_value("Cache-Control"), "public, max-age=31536000, immutable");
  auto ico = Get("/viewer/assets/favicon.ico");
  ASSERT_TRUE(ico);
  EXPECT_EQ(ico->get_header_value("Content-Type"), "image/vnd.microsoft.icon");
}

TEST_F(ViewerFilesTest, GeneratedConfigPointsAtThisServer) {
  auto r = Get("/viewer/app-config.js");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("qidoRoot: window.location.origin + '/dicomweb'"), std::string::npos);
  EXPECT_NE(r->body.find("routerBasename: '/'"), std::string::npos);
  EXPECT_NE(r->body.find("sessionStorage.getItem('strata-auth')"), std::string::npos);
}

TEST_F(ViewerFilesTest, MissingFilesAndEscapesAre404) {
  for (const char* path : {"/viewer/nope.js", "/viewer/assets/none.png", "/viewer/.hidden", "/viewer/../outside.txt",
                           "/viewer/assets/../../outside.txt", "/viewer/%2e%2e/outside.txt", "/viewer/a//b.js"}) {
    auto r = Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_EQ(r->body.find("secret"), std::string::npos);
    EXPECT_EQ(r->body.find("outside"), std::string::npos);
  }
}

TEST(ViewerOpenTest, NamesTheInstallScriptWhenOhifIsMissing) {
  auto v = ViewerFiles::Open({"/nonexistent/ohif"});
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("install-ohif.sh"), std::string::npos);
  EXPECT_FALSE(ViewerFiles::Open({""}).ok());
}

TEST(ExplainMigrationErrorTest, MapsTheConverterTextToPlainWords) {
  auto charset = ExplainMigrationError("Internal: [json.exception.type_error.316] invalid UTF-8 byte at index 3: 0xE9");
  EXPECT_NE(charset.summary.find("character set"), std::string::npos);
  EXPECT_NE(charset.action.find("retries"), std::string::npos);
  EXPECT_EQ(charset.summary.find("json"), std::string::npos);
  EXPECT_EQ(charset.detail, "Internal: [json.exception.type_error.316] invalid UTF-8 byte at index 3: 0xE9");

  EXPECT_NE(ExplainMigrationError("Conflict: claim on 1.2.3 lost during upload").summary.find("Another node"),
            std::string::npos);
  EXPECT_NE(ExplainMigrationError("Unavailable: PUT http://s3/x: Couldn't connect to server (curl 7)")
                .summary.find("cold store could not be reached"),
            std::string::npos);
  EXPECT_NE(ExplainMigrationError("interrupted (uploaded); cleaned up").summary.find("stopped"), std::string::npos);
  EXPECT_NE(ExplainMigrationError("NoSpace: write /x: No space left on device").summary.find("space"),
            std::string::npos);
  EXPECT_NE(ExplainMigrationError("Corruption: encoder produced 1.2.840.10008.1.2.4.80, not 1.2.840.10008.1.2.4.90")
                .summary.find("lossless"),
            std::string::npos);
  auto other = ExplainMigrationError("Internal: something new");
  EXPECT_NE(other.summary.find("unexpected"), std::string::npos);
  EXPECT_NE(other.action.find("server log"), std::string::npos);
  EXPECT_TRUE(ExplainMigrationError("").summary.empty());
}

TEST(SiteTimeZoneTest, KnownZonesOnly) {
  EXPECT_EQ(SiteTimeZone("Europe/Berlin").value(), "Europe/Berlin");
  EXPECT_EQ(SiteTimeZone("UTC").value(), "UTC");
  EXPECT_FALSE(SiteTimeZone("Mars/Olympus").ok());
  EXPECT_FALSE(SiteTimeZone("../../etc/passwd").ok());
  EXPECT_FALSE(SiteTimeZone("/etc/localtime").ok());
  auto server = SiteTimeZone("");
  ASSERT_TRUE(server.ok());
  EXPECT_FALSE(server->empty());
}

}  // namespace
}  // namespace strata::web
