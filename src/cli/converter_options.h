// ConverterOptions from the configuration (shared by `serve` and `migrate`).
#pragma once

#include "config/config.h"
#include "tiering/converter.h"

namespace strata {

Result<ConverterOptions> ConverterOptionsFromConfig(const Config& config);

}  // namespace strata
