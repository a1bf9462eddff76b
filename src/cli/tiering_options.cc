#include "cli/tiering_options.h"

#include "archive/retention.h"
#include "cli/serve_command.h"
#include "tiering/pack_codec.h"

#include <unistd.h>

#include "util/duration.h"

namespace strata {

Result<TieringOptions> TieringOptionsFromConfig(const Config& config) {
  TieringOptions o;
  o.node_id = NodeIdFromConfig(config);
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
  PackCodecPolicy codecs;
  codecs.default_codec = config.Get("tiering.codec");
  codecs.by_modality = config.GetMap("tiering.codec_by_modality");
  const std::string lossy = config.Get("tiering.lossy_ratio");
  try {
    codecs.lossy_ratio = std::stod(lossy);
  } catch (...) {
    return Status::InvalidArgument("tiering.lossy_ratio must be a number, not '" + lossy + "'");
  }
  codecs.lossy_replaces_originals = config.GetBool("tiering.lossy_replaces_originals");
  STRATA_ASSIGN_OR_RETURN(o.transcoder, MakeEntryTranscoder(codecs));
  if (o.lease_ms <= 0) return Status::InvalidArgument("tiering.lease must be positive");
  if (!config.Get("tiering.orphan_grace").empty()) {
    STRATA_ASSIGN_OR_RETURN(o.orphan_grace_ms, ParseDurationMs(config.Get("tiering.orphan_grace")));
  }
  if (!config.Get("lifecycle.rejected_delete_after").empty()) {
    STRATA_ASSIGN_OR_RETURN(o.rejected_delete_after_ms, ParseDurationMs(config.Get("lifecycle.rejected_delete_after")));
  }
  STRATA_ASSIGN_OR_RETURN(auto retention, ParseRetentionPolicy(config.GetMap("lifecycle.retention")));
  o.retention_keep_days = retention.keep_days;
  STRATA_ASSIGN_OR_RETURN(int64_t max_packs, config.GetInt("tiering.max_packs_per_study"));
  if (max_packs < 1) return Status::InvalidArgument("tiering.max_packs_per_study must be at least 1");
  o.consolidation.max_packs = static_cast<int>(max_packs);
  const std::string share = config.Get("tiering.small_pack_share");
  try {
    o.consolidation.small_share = std::stod(share);
  } catch (...) {
    return Status::InvalidArgument("tiering.small_pack_share must be a number, not '" + share + "'");
  }
  if (!(o.consolidation.small_share > 0))
    return Status::InvalidArgument("tiering.small_pack_share must be > 0 (>= 1 turns the share rule off)");
  return o;
}

}  // namespace strata
