// The site's time zone for the web page: every time the page shows (times of reception,
// migrations) is written in ISO 8601 in this zone, whatever the browser's locale or zone.
#pragma once

#include <string>

#include "util/status.h"

namespace strata::web {

// NAME (an IANA zone such as "Europe/Berlin", or "UTC") when /usr/share/zoneinfo knows it;
// "" = the server's zone (TZ, else /etc/localtime's target, else /etc/timezone, else UTC).
// InvalidArgument for an unknown or malformed NAME.
Result<std::string> SiteTimeZone(const std::string& name);

}  // namespace strata::web
