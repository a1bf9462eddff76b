#include "cli/replica_options.h"

#include "util/duration.h"

namespace strata {

Result<ReplicatorOptions> ReplicatorOptionsFromConfig(const Config& config) {
  ReplicatorOptions o;
  o.window = config.Get("replica.window");
  STRATA_ASSIGN_OR_RETURN(o.interval_ms, ParseDurationMs(config.Get("replica.interval")));
  STRATA_ASSIGN_OR_RETURN(o.retry_base_ms, ParseDurationMs(config.Get("replica.retry")));
  STRATA_ASSIGN_OR_RETURN(o.retry_max_ms, ParseDurationMs(config.Get("replica.retry_max")));
  if (o.interval_ms <= 0) return Status::InvalidArgument("replica.interval must be > 0");
  if (o.retry_max_ms < o.retry_base_ms) return Status::InvalidArgument("replica.retry_max is below replica.retry");
  return o;
}

Result<RepairOptions> RepairOptionsFromConfig(const Config& config) {
  RepairOptions o;
  STRATA_ASSIGN_OR_RETURN(o.interval_ms, ParseDurationMs(config.Get("scrub.interval")));
  STRATA_ASSIGN_OR_RETURN(o.pause_ms, ParseDurationMs(config.Get("scrub.pause")));
  return o;
}

}  // namespace strata
