#include "net/web/site_time_zone.h"

#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <fstream>

namespace strata::web {
namespace {

constexpr const char* kZoneInfo = "/usr/share/zoneinfo/";

bool WellFormed(const std::string& z) {
  if (z.empty() || z.size() > 64 || z[0] == '/' || z.find("..") != std::string::npos) return false;
  for (char c : z)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '_' && c != '-' && c != '+') return false;
  return true;
}

bool Known(const std::string& z) {
  struct stat st {};
  return WellFormed(z) && ::stat((kZoneInfo + z).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string ServerZone() {
  if (const char* tz = std::getenv("TZ"); tz != nullptr) {
    std::string z = tz[0] == ':' ? tz + 1 : tz;
    if (Known(z)) return z;
  }
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/etc/localtime", buf, sizeof(buf) - 1);
  if (n > 0) {
    const std::string target(buf, static_cast<size_t>(n));
    const size_t at = target.find("zoneinfo/");
    if (at != std::string::npos && Known(target.substr(at + 9))) return target.substr(at + 9);
  }
  std::ifstream in("/etc/timezone");
  std::string z;
  if (in >> z && Known(z)) return z;
  return "UTC";
}

}  // namespace

Result<std::string> SiteTimeZone(const std::string& name) {
  if (name.empty()) return ServerZone();
  if (name == "UTC" || Known(name)) return name;
  return Status::InvalidArgument("web.time_zone: unknown time zone '" + name +
                                 "' (an IANA name such as Europe/Berlin, see /usr/share/zoneinfo)");
}

}  // namespace strata::web
