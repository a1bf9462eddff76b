// ReplicatorOptions and RepairOptions from the configuration (replica.*, scrub.*), shared by
// `serve`, `replicate` and `verify`.
#pragma once

#include "config/config.h"
#include "tiering/replicator.h"
#include "tiering/scrub_repair.h"

namespace strata {

Result<ReplicatorOptions> ReplicatorOptionsFromConfig(const Config& config);
// interval_ms 0 means the background scrubber is off.
Result<RepairOptions> RepairOptionsFromConfig(const Config& config);

}  // namespace strata
