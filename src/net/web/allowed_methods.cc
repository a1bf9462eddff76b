#include "net/web/allowed_methods.h"

#include <regex>

#include "net/web/http_util.h"

namespace strata::web {
namespace {

struct MethodRule {
  std::regex path;
  const char* allow;
};

// First match wins. STOW-RS takes POST on /studies and /studies/{study}; a study, series or
// instance resource can be deleted (net/web/delete.cc); a study's attributes are corrected by
// PUT and patients merged by POST (corrections.cc); everything else reads.
const std::vector<MethodRule>& Rules() {
  static const std::vector<MethodRule> rules = {
      {std::regex(R"(/dicomweb/studies/?)"), "GET, POST, OPTIONS"},
      {std::regex(R"(/dicomweb/studies/[^/]+/?)"), "GET, POST, DELETE, OPTIONS"},
      {std::regex(R"(/dicomweb/studies/[^/]+/series/[^/]+/?)"), "GET, DELETE, OPTIONS"},
      {std::regex(R"(/dicomweb/studies/[^/]+/series/[^/]+/instances/[^/]+/?)"), "GET, DELETE, OPTIONS"},
      {std::regex(R"(/dicomweb(/.*)?)"), "GET, OPTIONS"},
      {std::regex(R"(/wado/?)"), "GET, OPTIONS"},
      {std::regex(R"(/api/studies/[^/]+)"), "PUT, OPTIONS"},  // corrections (corrections.cc)
      {std::regex(R"(/api/patients/merge)"), "POST, OPTIONS"},
      {std::regex(R"(/api/.*)"), "GET, OPTIONS"},
  };
  return rules;
}

void Refuse(const httplib::Request& req, httplib::Response& res) {
  const std::string allow = AllowedMethods(req.path);
  res.set_header("Allow", allow);
  SendError(res, 405, req.method + " is not allowed on " + req.path + " (allowed: " + allow + ")");
}

}  // namespace

std::string AllowedMethods(const std::string& path) {
  for (const auto& r : Rules())
    if (std::regex_match(path, r.path)) return r.allow;
  return "";
}

void RegisterMethodNotAllowed(Router& server) {
  for (const char* prefix : {R"(/dicomweb(?:/.*)?)", R"(/wado/?)", R"(/api/.*)"}) {
    server.Put(prefix, Refuse);
    server.Delete(prefix, Refuse);
    server.Patch(prefix, Refuse);
    server.Post(prefix, Refuse);  // after the STOW routes: POST where STOW is not a resource
  }
}

}  // namespace strata::web
