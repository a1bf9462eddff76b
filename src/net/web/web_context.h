// What every DICOMweb handler group needs, and the registration functions of the groups.
// Each group (one file each) adds its routes to the httplib server; paths are regexes matched
// whole, UIDs captured as path segments and validated by the handlers (400 when malformed).
#pragma once

#include <httplib.h>

#include "archive/archive.h"
#include "net/web/access.h"
#include "net/web/metadata.h"

namespace strata::web {

struct WebContext {
  Archive* archive = nullptr;
  MetadataService* metadata = nullptr;
  // POST requests are authorized by their handler (which first reads and drops the body, so
  // that the client gets the 401 rather than a reset connection); see web_server.cc.
  const AccessPolicy* policy = nullptr;
  std::string time_zone;  // the site's IANA time zone: the page shows times in it (ISO 8601)
};

// A UID path segment.
inline constexpr const char* kUidRe = "([^/?]+)";

void RegisterQido(httplib::Server& server, WebContext& ctx);         // qido.cc
void RegisterWadoRs(httplib::Server& server, WebContext& ctx);       // wado.cc
void RegisterRendered(httplib::Server& server, WebContext& ctx);     // rendered.cc
void RegisterStow(httplib::Server& server, WebContext& ctx);         // stow.cc
void RegisterWadoUri(httplib::Server& server, WebContext& ctx);      // wado_uri.cc
void RegisterDelete(httplib::Server& server, WebContext& ctx);      // delete.cc
void RegisterApi(httplib::Server& server, WebContext& ctx);          // web_api.cc
void RegisterWebPage(httplib::Server& server);                       // web_page.cc

}  // namespace strata::web
