// Logging: spdlog, one logger for the process. Server code logs one structured line
// (key=value pairs) per association or request; see LogEvent.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace strata {

// Sets the level ("trace".."error") and makes the default logger write to stderr.
void InitLogging(const std::string& level);

}  // namespace strata
