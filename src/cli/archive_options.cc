#include <unistd.h>

#include "archive/archive.h"
#include "cli/serve_command.h"
#include "util/duration.h"

namespace strata {

std::string NodeIdFromConfig(const Config& config) {
  std::string id = config.Get("node_id");
  if (id.empty()) {
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    id = host;
  }
  return id;
}

Result<ArchiveOptions> ArchiveOptionsFromConfig(const Config& config) {
  ArchiveOptions o;
  o.hot_dir = config.Get("hot_dir");
  o.node_id = NodeIdFromConfig(config);
  o.catalog.url = config.Get("catalog");
  STRATA_ASSIGN_OR_RETURN(o.catalog.pn_match, ParsePnMatch(config.Get("query.pn_match")));
  o.cold.url = config.Get("cold");
  // Empty S3 settings stay empty: the S3 store falls back to the AWS_* environment itself,
  // in the order cold/cold_store.h documents (AWS_ENDPOINT_URL_S3 before AWS_ENDPOINT_URL).
  o.cold.endpoint = config.Get("s3.endpoint");
  o.cold.region = config.Get("s3.region");
  o.cold.access_key = config.Get("s3.access_key");
  o.cold.secret_key = config.Get("s3.secret_key");
  o.cold.path_style = config.GetBool("s3.path_style");
  o.cold.ca_file = config.Get("s3.ca_file");
  STRATA_ASSIGN_OR_RETURN(int64_t parallel, config.GetInt("s3.parallel"));
  o.cold.parallel_parts = static_cast<int>(parallel);
  STRATA_ASSIGN_OR_RETURN(o.duplicates, ParseDuplicatePolicy(config.Get("duplicates")));
  STRATA_ASSIGN_OR_RETURN(int64_t ahead, config.GetInt("read_ahead"));
  o.read_ahead = static_cast<int>(ahead);
  STRATA_ASSIGN_OR_RETURN(int64_t run_bytes, config.GetInt("read_run_bytes"));
  if (run_bytes < 0) return Status::InvalidArgument("read_run_bytes must be >= 0");
  o.read_run_bytes = static_cast<uint64_t>(run_bytes);
  STRATA_ASSIGN_OR_RETURN(o.hot_reconcile_grace_ms, ParseDurationMs(config.Get("hot.reconcile_grace")));
  // The replica: its own endpoint and credentials, else the primary's S3 settings.
  o.replica = o.cold;
  o.replica.url = config.Get("replica");
  auto or_primary = [&](const char* key, const std::string& primary) {
    const std::string v = config.Get(key);
    return v.empty() ? primary : v;
  };
  o.replica.endpoint = or_primary("replica.endpoint", o.cold.endpoint);
  o.replica.region = or_primary("replica.region", o.cold.region);
  o.replica.access_key = or_primary("replica.access_key", o.cold.access_key);
  o.replica.secret_key = or_primary("replica.secret_key", o.cold.secret_key);
  if (!o.replica.url.empty() && o.replica.url == o.cold.url && o.replica.endpoint == o.cold.endpoint)
    return Status::InvalidArgument("replica names the cold store itself (" + o.replica.url + ")");
  return o;
}

}  // namespace strata
