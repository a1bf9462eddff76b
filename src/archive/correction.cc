// The correctable attributes, their validation, and the Archive's corrections: Correct,
// MergePatients (the durable record in the cold store, then the catalog, one log line per
// changed attribute) and ReadServed (the
// stored bytes patched from the study's records on the way out).
#include "archive/correction.h"

#include <cctype>
#include <cstdio>
#include <functional>
#include <mutex>
#include <set>

#include "archive/archive.h"
#include "archive/correction_log.h"
#include "archive/correction_patch.h"
#include "model/attributes.h"
#include "model/uid.h"
#include "util/log.h"
#include "util/utf8.h"

namespace strata {
namespace {

// Code points of valid UTF-8 VALUE; -1 when it is not valid UTF-8.
long CountChars(const std::string& value) {
  size_t pos = 0;
  long n = 0;
  char32_t cp;
  while (pos < value.size()) {
    if (!NextUtf8(value, &pos, &cp)) return -1;
    ++n;
  }
  return n;
}

Status Bad(const CorrectableAttribute& a, const std::string& why) {
  return Status::InvalidArgument(std::string(a.keyword) + " (" + a.vr + "): " + why);
}

Status CheckText(const CorrectableAttribute& a, const std::string& v, long max_chars) {
  const long n = CountChars(v);
  if (n < 0) return Bad(a, "the value is not valid UTF-8");
  if (n > max_chars) return Bad(a, "at most " + std::to_string(max_chars) + " characters, got " + std::to_string(n));
  for (unsigned char c : v) {
    if (c < 0x20 || c == 0x7F) return Bad(a, "control characters are not allowed");
    if (c == '\\') return Bad(a, "a backslash (value separator) is not allowed: one value only");
  }
  return Status::OK();
}

Status CheckDate(const CorrectableAttribute& a, const std::string& v) {
  if (v.empty()) return Status::OK();
  if (v.size() != 8 || v.find_first_not_of("0123456789") != std::string::npos)
    return Bad(a, "a date is YYYYMMDD, got '" + v + "'");
  const int y = std::stoi(v.substr(0, 4)), m = std::stoi(v.substr(4, 2)), d = std::stoi(v.substr(6, 2));
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (m < 1 || m > 12 || d < 1 || d > kDays[m - 1] + (m == 2 && leap ? 1 : 0))
    return Bad(a, "'" + v + "' is not a calendar date");
  return Status::OK();
}

Status CheckPersonName(const CorrectableAttribute& a, const std::string& v) {
  STRATA_RETURN_IF_ERROR(CheckText(a, v, 3 * 64 + 2));
  size_t groups = 0, start = 0;
  for (;;) {
    const size_t eq = v.find('=', start);
    const std::string group = v.substr(start, eq == std::string::npos ? std::string::npos : eq - start);
    if (++groups > 3) return Bad(a, "at most 3 component groups (alphabetic=ideographic=phonetic)");
    if (CountChars(group) > 64) return Bad(a, "a component group has at most 64 characters");
    size_t carets = 0;
    for (char c : group) carets += c == '^';
    if (carets > 4) return Bad(a, "at most 5 components (family^given^middle^prefix^suffix)");
    if (eq == std::string::npos) break;
    start = eq + 1;
  }
  return Status::OK();
}

Status CheckCodeString(const CorrectableAttribute& a, const std::string& v) {
  if (v.size() > 16) return Bad(a, "at most 16 characters");
  for (unsigned char c : v)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' || c == '_'))
      return Bad(a, "only A-Z, 0-9, space and underscore are allowed, got '" + v + "'");
  if (a.tag == tags::kPatientSex && !(v.empty() || v == "M" || v == "F" || v == "O"))
    return Bad(a, "M, F, O or empty, got '" + v + "'");
  return Status::OK();
}

// A log-safe quoted value.
std::string Quoted(const std::string& v) {
  std::string out = "\"";
  for (char c : EscapeInvalidUtf8(v)) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

void LogRecords(const std::vector<CorrectionRecord>& records) {
  for (const auto& r : records)
    spdlog::info("event={} study={} attribute={} tag={:08X} old={} new={} who={} reason={} change={} at_ms={}", r.kind,
                 r.study_uid, CorrectableKeyword(r.tag), r.tag, Quoted(r.old_value), Quoted(r.new_value),
                 Quoted(r.who), Quoted(r.reason), r.change_id, r.at_ms);
}

// Serializes (record, commit) pairs within this process: a rebuild replays the records in the
// order of their stamps, which must be the order the catalog committed them in.
std::mutex& ChangeOrderMutex() {
  static std::mutex mu;
  return mu;
}

// The durable record of CHANGE in COLD first (archive/correction_log.h), then COMMIT (the
// catalog transaction, given the record's time). The record goes again only when the catalog
// definitely refused the change: kUnknownOutcome may have committed, and a rebuild must then
// re-apply it (a change that did not land is re-applied harmlessly or skipped as kNotFound).
Result<std::vector<CorrectionRecord>> Recorded(
    ColdStore* cold, CorrectionChange change,
    const std::function<Result<std::vector<CorrectionRecord>>(int64_t at_ms)>& commit) {
  std::lock_guard<std::mutex> lock(ChangeOrderMutex());
  const CorrectionChange stamp = NewCorrectionChange(change.kind);
  change.at_ms = stamp.at_ms;
  change.seq = stamp.seq;
  const std::string key = CorrectionRecordKey(change);
  Status w = WriteCorrectionRecord(cold, key, change);
  if (!w.ok())  // kept as the store said (kUnavailable, kNoSpace...): the change may be retried
    return w.WithContext(change.kind + " refused, nothing changed: its record could not be written to the cold store");
  auto records = commit(change.at_ms);
  if (!records.ok() && records.status().code() != Status::Code::kUnknownOutcome) {
    Status d = cold->Delete(key);  // the catalog kept the old values: so must a rebuild
    if (!d.ok()) spdlog::warn("event=correction_record_left key={} error=\"{}\"", key, d.ToString());
  }
  return records;
}

}  // namespace

const std::vector<CorrectableAttribute>& CorrectableAttributes() {
  static const std::vector<CorrectableAttribute> table = {
      {"PatientID", tags::kPatientID, "LO", true},
      {"IssuerOfPatientID", tags::kIssuerOfPatientID, "LO", true},
      {"PatientName", tags::kPatientName, "PN", true},
      {"PatientBirthDate", tags::kPatientBirthDate, "DA", true},
      {"PatientSex", tags::kPatientSex, "CS", true},
      {"StudyDate", tags::kStudyDate, "DA", false},
      {"AccessionNumber", tags::kAccessionNumber, "SH", false},
      {"StudyID", tags::kStudyID, "SH", false},
      {"StudyDescription", tags::kStudyDescription, "LO", false},
      {"ReferringPhysicianName", tags::kReferringPhysicianName, "PN", false},
  };
  return table;
}

const CorrectableAttribute* FindCorrectable(const std::string& name) {
  for (const auto& a : CorrectableAttributes()) {
    char hex[9];
    std::snprintf(hex, sizeof(hex), "%08X", a.tag);
    if (name == a.keyword || name == hex) return &a;
    if (name.size() == 8) {
      std::string upper = name;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (upper == hex) return &a;
    }
  }
  return nullptr;
}

std::string CorrectableKeyword(uint32_t tag) {
  for (const auto& a : CorrectableAttributes())
    if (a.tag == tag) return a.keyword;
  return {};
}

Status ValidateCorrectionValue(const CorrectableAttribute& a, const std::string& v) {
  const std::string vr = a.vr;
  if (a.tag == tags::kPatientID && v.empty()) return Bad(a, "a patient needs an ID; it cannot be emptied");
  if (vr == "LO") return CheckText(a, v, 64);
  if (vr == "SH") return CheckText(a, v, 16);
  if (vr == "PN") return CheckPersonName(a, v);
  if (vr == "DA") return CheckDate(a, v);
  if (vr == "CS") return CheckCodeString(a, v);
  return Bad(a, "no validation for this VR");
}

Result<std::vector<std::pair<uint32_t, std::string>>> ParseCorrections(
    const std::vector<std::pair<std::string, std::string>>& keyword_values) {
  if (keyword_values.empty()) return Status::InvalidArgument("no attribute to change");
  std::vector<std::pair<uint32_t, std::string>> out;
  std::set<uint32_t> seen;
  for (const auto& [name, value] : keyword_values) {
    const CorrectableAttribute* a = FindCorrectable(name);
    if (a == nullptr) {
      std::string known;
      for (const auto& c : CorrectableAttributes()) known += (known.empty() ? "" : ", ") + std::string(c.keyword);
      return Status::InvalidArgument("'" + name + "' is not a correctable attribute (correctable: " + known + ")");
    }
    if (!seen.insert(a->tag).second) return Status::InvalidArgument(std::string(a->keyword) + " is given twice");
    STRATA_RETURN_IF_ERROR(ValidateCorrectionValue(*a, value));
    out.emplace_back(a->tag, value);
  }
  return out;
}

Result<std::vector<CorrectionRecord>> Archive::Correct(const std::string& study_uid,
                                                       const std::vector<std::pair<std::string, std::string>>& changes,
                                                       const std::string& who, const std::string& reason) {
  STRATA_RETURN_IF_ERROR(ValidateUid(study_uid, "StudyInstanceUID"));
  STRATA_ASSIGN_OR_RETURN(auto parsed, ParseCorrections(changes));
  CorrectionChange change;
  change.kind = "correct";
  change.study_uid = study_uid;
  change.changes = parsed;
  change.who = who;
  change.reason = reason;
  STRATA_ASSIGN_OR_RETURN(auto records, Recorded(cold_.get(), change, [&](int64_t at_ms) {
    return catalog_->CorrectStudy(study_uid, parsed, who, reason, at_ms);
  }));
  LogRecords(records);
  if (records.empty()) spdlog::info("event=correct study={} who={} note=\"no value differed\"", study_uid, Quoted(who));
  return records;
}

Result<std::vector<CorrectionRecord>> Archive::MergePatients(const std::string& from_id, const std::string& from_issuer,
                                                             const std::string& to_id, const std::string& to_issuer,
                                                             const std::string& who, const std::string& reason) {
  for (const auto& [name, value] : {std::pair{"IssuerOfPatientID", from_issuer}, std::pair{"IssuerOfPatientID", to_issuer},
                                    std::pair{"PatientID", from_id}, std::pair{"PatientID", to_id}})
    STRATA_RETURN_IF_ERROR(ValidateCorrectionValue(*FindCorrectable(name), value));
  if (from_id == to_id && from_issuer == to_issuer)  // refused before a record is written
    return Status::InvalidArgument("cannot merge patient '" + from_id + "' into itself");
  CorrectionChange change;
  change.kind = "merge";
  change.from_id = from_id;
  change.from_issuer = from_issuer;
  change.to_id = to_id;
  change.to_issuer = to_issuer;
  change.who = who;
  change.reason = reason;
  STRATA_ASSIGN_OR_RETURN(auto records, Recorded(cold_.get(), change, [&](int64_t at_ms) {
    return catalog_->MergePatients(from_id, from_issuer, to_id, to_issuer, who, reason, at_ms);
  }));
  LogRecords(records);
  spdlog::info("event=merge from={} from_issuer={} into={} into_issuer={} who={} records={}", Quoted(from_id),
               Quoted(from_issuer), Quoted(to_id), Quoted(to_issuer), Quoted(who), records.size());
  return records;
}

std::string Archive::ModifyingSystem() const {
  return ("Strata " + options_.node_id).substr(0, 64);
}

Result<std::string> Archive::ReadServed(const InstanceRecord& record, const std::vector<CorrectionRecord>& corrections) {
  STRATA_ASSIGN_OR_RETURN(std::string bytes, Read(record));
  if (corrections.empty()) return bytes;
  return PatchPart10(bytes, corrections, ModifyingSystem());
}

std::vector<Result<std::string>> Archive::ReadServedRun(std::span<const InstanceRecord> run,
                                                        const std::vector<CorrectionRecord>& corrections) {
  std::vector<Result<std::string>> out = ReadRun(run);
  if (corrections.empty()) return out;
  for (Result<std::string>& r : out) {
    if (r.ok()) r = PatchPart10(r.value(), corrections, ModifyingSystem());
  }
  return out;
}

Result<std::string> Archive::ReadServed(const InstanceRecord& record) {
  STRATA_ASSIGN_OR_RETURN(auto corrections, catalog_->ListCorrections(record.study_uid));
  return ReadServed(record, corrections);
}

}  // namespace strata
