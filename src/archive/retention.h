// Retention (issue 15): "delete studies whose StudyDate is older than N" — per modality or
// for all (`*`). Nothing is deleted unless a rule is configured (lifecycle.retention, e.g.
// `*=3650d,CR=1825d`). A study matches the rule of each modality it holds, and the longest
// of those keeps it (a CT+CR study under `CT=5000d,CR=1825d` is kept 5000 days); `*`
// applies to the modalities with no rule of their own. A study without a StudyDate never
// expires. Evaluated by the converter's scheduler and by `strata retention [--dry-run]`.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "util/status.h"

namespace strata {

class Archive;

struct RetentionPolicy {
  std::map<std::string, int64_t> keep_days;  // modality (or "*") -> days a study is kept
  bool empty() const { return keep_days.empty(); }
};

// Parses MODALITY=DURATION entries (durations in days: "3650d"; also "10y" = 3650 days).
// InvalidArgument for a bad duration or one shorter than a day.
Result<RetentionPolicy> ParseRetentionPolicy(const std::map<std::string, std::string>& entries);

struct ExpiredStudy {
  std::string study_uid, study_date, modalities;
  int64_t keep_days = 0;  // the rule that let it go
  uint64_t instances = 0;
};

// Studies POLICY lets go as of TODAY (YYYYMMDD), oldest StudyDate first. Reads the catalog only.
Result<std::vector<ExpiredStudy>> FindExpiredStudies(Archive* archive, const RetentionPolicy& policy,
                                                     const std::string& today);

// Deletes each expired study through Archive::Delete, one structured log line per study
// (who, what, when, old values: StudyDate, modalities, instances; new: deleted). Returns the
// studies deleted; stops at the first error other than NotFound (deleted meanwhile).
Result<std::vector<ExpiredStudy>> ApplyRetention(Archive* archive, const RetentionPolicy& policy,
                                                 const std::string& today, const std::string& who);

// Today's date (local time) as YYYYMMDD.
std::string TodayYmd();

}  // namespace strata
