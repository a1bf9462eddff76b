#include "cli/converter_options.h"

#include <unistd.h>

#include "util/duration.h"

namespace strata {

Result<ConverterOptions> ConverterOptionsFromConfig(const Config& config) {
  ConverterOptions o;
  o.node_id = config.Get("node_id");
  if (o.node_id.empty()) {
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    o.node_id = host;
  }
  STRATA_ASSIGN_OR_RETURN(o.older_than_ms, ParseDurationMs(config.Get("tiering.older_than")));
  if (!config.Get("tiering.study_date_older_than").empty()) {
    STRATA_ASSIGN_OR_RETURN(o.study_date_older_than_ms, ParseDurationMs(config.Get("tiering.study_date_older_than")));
  }
  STRATA_ASSIGN_OR_RETURN(o.interval_ms, ParseDurationMs(config.Get("tiering.interval")));
  STRATA_ASSIGN_OR_RETURN(o.lease_ms, ParseDurationMs(config.Get("tiering.lease")));
  o.window = config.Get("tiering.window");
  STRATA_ASSIGN_OR_RETURN(int64_t n, config.GetInt("tiering.studies_at_once"));
  o.studies_at_once = static_cast<int>(n);
  STRATA_ASSIGN_OR_RETURN(int64_t p, config.GetInt("s3.parallel"));
  o.parallel_parts = static_cast<int>(p);
  const std::string codec = config.Get("tiering.codec");
  if (codec != "none")
    return Status::InvalidArgument("tiering.codec '" + codec + "' is not available in this build");
  return o;
}

}  // namespace strata
