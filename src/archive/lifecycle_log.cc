#include "archive/lifecycle_log.h"

#include <cstdio>
#include <ctime>

namespace strata {
namespace {

std::string Quoted(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n' || c == '\r') c = ' ';
    out += c;
  }
  return out + "\"";
}

std::string OrDash(const std::string& v) { return v.empty() ? "-" : v; }

}  // namespace

std::string IsoUtcMs(int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char tail[16];
  std::snprintf(tail, sizeof tail, ".%03dZ", static_cast<int>(ms % 1000));
  return std::string(buf, n) + tail;
}

std::string LifecycleLogFields(const LifecycleEvent& e) {
  // The JSON objects are dumped compact: no newline, and a space only inside a quoted value.
  return "who=" + Quoted(e.who) + " action=" + e.action + " when=" + IsoUtcMs(e.at_ms) +
         " lifecycle_id=" + std::to_string(e.id) + " study=" + e.study_uid + " series=" + OrDash(e.series_uid) +
         " sop=" + OrDash(e.sop_uid) + " patient=" + Quoted(e.patient_name) + " patient_id=" + Quoted(e.patient_id) +
         " study_date=" + OrDash(e.study_date) + " description=" + Quoted(e.study_description) +
         " instances=" + std::to_string(e.instances) + " old=" + e.old_values + " new=" + e.new_values +
         " cause=" + Quoted(e.reason);
}

}  // namespace strata
