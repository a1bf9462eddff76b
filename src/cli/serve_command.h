// `strata serve`: runs the archive (DIMSE, HTTP, converter) until SIGINT/SIGTERM.
#pragma once

#include "config/config.h"

namespace strata {

int RunServe(const Config& config);

// Builds the archive options every command shares from the configuration.
struct ArchiveOptions;
Result<ArchiveOptions> ArchiveOptionsFromConfig(const Config& config);

}  // namespace strata
