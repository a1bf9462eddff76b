#include "cli/converter_options.h"

#include "cli/serve_command.h"
#include "tiering/pack_codec.h"

#include <unistd.h>

#include "util/duration.h"

namespace strata {

Result<ConverterOptions> ConverterOptionsFromConfig(const Config& config) {
  ConverterOptions o;
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
  return o;
}

}  // namespace strata
