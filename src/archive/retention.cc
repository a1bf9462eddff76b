#include "archive/retention.h"

#include <algorithm>
#include <ctime>
#include <set>

#include "archive/archive.h"
#include "model/attributes.h"
#include "util/duration.h"
#include "util/log.h"

namespace strata {
namespace {

// YYYYMMDD of DAYS before TODAY (YYYYMMDD), through the C calendar.
std::string DaysBefore(const std::string& today, int64_t days) {
  std::tm tm{};
  tm.tm_year = std::stoi(today.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(today.substr(4, 2)) - 1;
  tm.tm_mday = std::stoi(today.substr(6, 2)) - static_cast<int>(days);
  tm.tm_hour = 12;  // away from DST edges
  std::mktime(&tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y%m%d", &tm);
  return buf;
}

bool IsYmd(const std::string& d) {
  return d.size() == 8 && std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

Result<RetentionPolicy> ParseRetentionPolicy(const std::map<std::string, std::string>& entries) {
  RetentionPolicy p;
  for (const auto& [modality, text] : entries) {
    int64_t days = 0;
    if (!text.empty() && text.back() == 'y') {
      try {
        days = std::stoll(text.substr(0, text.size() - 1)) * 365;
      } catch (...) {
        return Status::InvalidArgument("lifecycle.retention: bad duration '" + text + "' for " + modality);
      }
    } else {
      auto ms = ParseDurationMs(text);
      if (!ms.ok()) return Status::InvalidArgument("lifecycle.retention: bad duration '" + text + "' for " + modality);
      days = ms.value() / (86400LL * 1000);
    }
    if (days < 1)
      return Status::InvalidArgument("lifecycle.retention: " + modality + "=" + text + " is shorter than a day");
    p.keep_days[modality] = days;
  }
  return p;
}

std::string TodayYmd() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y%m%d", &tm);
  return buf;
}

Result<std::vector<ExpiredStudy>> FindExpiredStudies(Archive* archive, const RetentionPolicy& policy,
                                                     const std::string& today) {
  std::vector<ExpiredStudy> out;
  if (policy.empty()) return out;
  if (!IsYmd(today)) return Status::InvalidArgument("retention: today must be YYYYMMDD, not '" + today + "'");
  // Candidates: StudyDate older than the shortest rule (C-FIND range matching; an empty
  // StudyDate does not match a range, so undated studies never expire).
  int64_t shortest = INT64_MAX;
  for (const auto& [m, d] : policy.keep_days) shortest = std::min(shortest, d);
  Query q;
  q.level = QueryLevel::kStudy;
  q.keys = {{tags::kStudyInstanceUID, ""},
            {tags::kStudyDate, "-" + DaysBefore(today, shortest + 1)},
            {tags::kModalitiesInStudy, ""},
            {tags::kNumberOfStudyRelatedInstances, ""}};
  STRATA_ASSIGN_OR_RETURN(auto rows, archive->Find(q));
  for (auto& row : rows) {
    ExpiredStudy e;
    e.study_uid = row[tags::kStudyInstanceUID];
    e.study_date = row[tags::kStudyDate];
    e.modalities = row[tags::kModalitiesInStudy];
    try {
      e.instances = std::stoull(row[tags::kNumberOfStudyRelatedInstances]);
    } catch (...) {
    }
    if (!IsYmd(e.study_date)) continue;
    // The longest rule among the study's modalities keeps it; "*" for those without one.
    std::set<std::string> mods;
    for (size_t b = 0, p; b <= e.modalities.size(); b = p + 1) {
      p = e.modalities.find('\\', b);
      if (p == std::string::npos) p = e.modalities.size();
      if (p > b) mods.insert(e.modalities.substr(b, p - b));
    }
    if (mods.empty()) mods.insert("");
    int64_t keep = -1;
    for (const auto& m : mods) {
      auto it = policy.keep_days.find(m);
      if (it == policy.keep_days.end()) it = policy.keep_days.find("*");
      if (it == policy.keep_days.end()) {
        keep = INT64_MAX;  // a modality no rule covers: kept
        break;
      }
      keep = std::max(keep, it->second);
    }
    if (keep < 0 || keep == INT64_MAX) continue;
    if (e.study_date >= DaysBefore(today, keep)) continue;  // not older than its rule yet
    e.keep_days = keep;
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const ExpiredStudy& a, const ExpiredStudy& b) {
    return a.study_date != b.study_date ? a.study_date < b.study_date : a.study_uid < b.study_uid;
  });
  return out;
}

Result<std::vector<ExpiredStudy>> ApplyRetention(Archive* archive, const RetentionPolicy& policy,
                                                 const std::string& today, const std::string& who) {
  STRATA_ASSIGN_OR_RETURN(auto expired, FindExpiredStudies(archive, policy, today));
  std::vector<ExpiredStudy> done;
  for (auto& e : expired) {
    LifecycleCause cause;
    cause.action = "retention";
    cause.who = who;
    cause.reason = "StudyDate " + e.study_date + " older than the rule's " + std::to_string(e.keep_days) +
                   " days (modalities " + e.modalities + ")";
    auto r = archive->Delete(e.study_uid, "", "", cause);
    if (!r.ok()) {
      if (r.status().IsNotFound()) continue;
      return r.status();
    }
    spdlog::info("event=retention_delete who=\"{}\" study={} when={} old_study_date={} old_modalities=\"{}\" "
                 "old_instances={} rule_days={} new=deleted deleted_instances={}",
                 who, e.study_uid, today, e.study_date, e.modalities, e.instances, e.keep_days, r->deleted.size());
    done.push_back(std::move(e));
  }
  return done;
}

}  // namespace strata
