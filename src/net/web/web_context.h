// What every DICOMweb handler group needs, and the registration functions of the groups.
// Each group (one file each) adds its routes to the Router (which checks identity and role
// and writes the audit record of each request); paths are regexes matched
// whole, UIDs captured as path segments and validated by the handlers (400 when malformed).
#pragma once

#include <httplib.h>

#include "archive/archive.h"
#include "net/web/access.h"
#include "net/web/metadata.h"
#include "net/web/router.h"

namespace strata::web {

struct WebContext {
  Archive* archive = nullptr;
  MetadataService* metadata = nullptr;
  const AccessPolicy* policy = nullptr;  // every route is checked by the Router (router.h)
  std::string time_zone;  // the site's IANA time zone: the page shows times in it (ISO 8601)
};

// A UID path segment.
inline constexpr const char* kUidRe = "([^/?]+)";

void RegisterQido(Router& server, WebContext& ctx);         // qido.cc
void RegisterWadoRs(Router& server, WebContext& ctx);       // wado.cc
void RegisterRendered(Router& server, WebContext& ctx);     // rendered.cc
void RegisterStow(Router& server, WebContext& ctx);         // stow.cc
void RegisterWadoUri(Router& server, WebContext& ctx);      // wado_uri.cc
void RegisterDelete(Router& server, WebContext& ctx);      // delete.cc
void RegisterApi(Router& server, WebContext& ctx);          // web_api.cc
void RegisterCorrections(Router& server, WebContext& ctx);  // corrections.cc
void RegisterLifecycleApi(Router& server, WebContext& ctx); // lifecycle_api.cc
void RegisterWebPage(Router& server);                       // web_page.cc

}  // namespace strata::web
