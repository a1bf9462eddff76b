// `strata serve`: runs the archive (DIMSE, HTTP, converter) until SIGINT/SIGTERM.
#pragma once

#include "config/config.h"

namespace strata {

int RunServe(const Config& config);

// Builds the archive options every command shares from the configuration.
struct ArchiveOptions;
Result<ArchiveOptions> ArchiveOptionsFromConfig(const Config& config);
// node_id, or the host name when it is not set.
std::string NodeIdFromConfig(const Config& config);

}  // namespace strata
