// Synthetic catalog rows for the benchmarks (strata-bench-fill, strata-bench-catalog-add):
// studies of one CT series, two studies per patient, study dates spread over 2000..2024.
// UIDs look like scanner UIDs (a few vendor roots, a device number, a date-time, counters;
// 50-64 characters), so new studies land all over the UID indexes, not at one end.
// With a template (a Part 10 file read by the server's own reader), every row takes its
// attributes and its header JSON with the UIDs replaced: rows as big as real ones.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/records.h"
#include "util/status.h"

namespace strata::bench {

class SyntheticStudies {
 public:
  SyntheticStudies();  // built-in attributes, no header JSON
  // Takes the attributes and header JSON of the Part 10 file at PATH.
  [[nodiscard]] Status LoadTemplate(const std::string& path);
  // The PER_STUDY instances of study number S (any S >= 1; distinct S give distinct UIDs).
  std::vector<InstanceRecord> Study(uint64_t s, uint64_t per_study) const;
  size_t header_json_bytes() const { return tmpl_.header_json.size(); }

 private:
  InstanceRecord tmpl_;
};

}  // namespace strata::bench
