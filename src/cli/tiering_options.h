// TieringOptions from the configuration (shared by `serve` and `migrate`).
#pragma once

#include "config/config.h"
#include "tiering/migration_scheduler.h"

namespace strata {

Result<TieringOptions> TieringOptionsFromConfig(const Config& config);

}  // namespace strata
