// Which methods each resource allows (RFC 9110 15.5.6): a request with another method is
// answered 405 with an `Allow` header, never 404. One table, so adding a method to a resource
// (e.g. DELETE on studies, series and instances) is one line in allowed_methods.cc plus the
// route; routes registered before RegisterMethodNotAllowed take precedence over its catch-alls.
#pragma once

#include <string>

#include <httplib.h>

#include "net/web/router.h"

namespace strata::web {

// "GET, POST, OPTIONS"-style list of the methods PATH allows ("" when the server has no such
// resource family: not under /dicomweb, /wado or /api).
std::string AllowedMethods(const std::string& path);

// Catch-all PUT, DELETE, PATCH (and POST where no STOW route matched) under /dicomweb, /wado
// and /api: 405 with Allow. Register last.
void RegisterMethodNotAllowed(Router& server);

}  // namespace strata::web
