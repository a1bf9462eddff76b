#include "net/web/qido.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctag.h>
#include <nlohmann/json.hpp>

#include "model/request_attributes.h"
#include "model/uid.h"
#include "net/web/dicom_json.h"
#include "net/web/http_util.h"
#include "net/web/web_context.h"
#include "util/strings.h"

namespace strata::web {
namespace {

const std::vector<Tag>& DefaultTags(QueryLevel level) {
  using namespace tags;
  // PS3.18 Table 10.6.3-3 (and Study Description, which viewers list); InstanceAvailability
  // and RetrieveURL are added to every result by HandleQido.
  static const std::vector<Tag> study = {kStudyDate, kStudyTime, kAccessionNumber, kModalitiesInStudy,
                                         kReferringPhysicianName, kTimezoneOffsetFromUTC, kPatientName, kPatientID,
                                         kPatientBirthDate, kPatientSex, kStudyInstanceUID, kStudyID,
                                         kNumberOfStudyRelatedSeries, kNumberOfStudyRelatedInstances,
                                         kStudyDescription};
  // Table 10.6.3-4.
  static const std::vector<Tag> series = {kModality, kTimezoneOffsetFromUTC, kSeriesDescription, kSeriesInstanceUID,
                                          kSeriesNumber, kNumberOfSeriesRelatedInstances,
                                          kPerformedProcedureStepStartDate, kPerformedProcedureStepStartTime,
                                          kRequestAttributesSequence, kStudyInstanceUID};
  // Table 10.6.3-5.
  static const std::vector<Tag> instance = {kSOPClassUID, kSOPInstanceUID, kTimezoneOffsetFromUTC, kInstanceNumber,
                                            kRows, kColumns, kBitsAllocated, kNumberOfFrames, kStudyInstanceUID,
                                            kSeriesInstanceUID};
  switch (level) {
    case QueryLevel::kSeries: return series;
    case QueryLevel::kInstance: return instance;
    default: return study;
  }
}

bool IsPatientCount(Tag t) {
  return t == tags::kNumberOfPatientRelatedStudies || t == tags::kNumberOfPatientRelatedSeries ||
         t == tags::kNumberOfPatientRelatedInstances;
}

// The tag of a DICOM keyword or "ggggeeee" tag, indexed or not; nullopt if neither.
std::optional<Tag> KnownAttribute(const std::string& name) {
  if (name.size() == 8 && std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isxdigit(c); }))
    return static_cast<Tag>(std::stoul(name, nullptr, 16));
  DcmTag tag;
  if (DcmTag::findTagFromName(name.c_str(), tag).bad()) return std::nullopt;
  return MakeTag(tag.getGroup(), tag.getElement());
}
bool IsKnownAttribute(const std::string& name) { return KnownAttribute(name).has_value(); }

// Attributes the catalog returns at LEVEL: those of the level and the levels above it, except
// the patient-level counts (only computed for patient-level queries).
bool Returnable(const AttributeDef& def, QueryLevel level) {
  return def.level <= level && !IsPatientCount(def.tag);
}

bool AllDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// A DA value (YYYYMMDD) that names a real calendar day.
Status CheckDate(std::string_view d, const std::string& key) {
  if (d.size() != 8 || !AllDigits(d))
    return Status::InvalidArgument(key + ": '" + std::string(d) + "' is not a date (YYYYMMDD)");
  const int y = std::stoi(std::string(d.substr(0, 4))), m = std::stoi(std::string(d.substr(4, 2))),
            day = std::stoi(std::string(d.substr(6, 2)));
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12) return Status::InvalidArgument(key + ": '" + std::string(d) + "' has no month " + std::to_string(m));
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  const int last = kDays[m - 1] + (m == 2 && leap ? 1 : 0);
  if (day < 1 || day > last)
    return Status::InvalidArgument(key + ": '" + std::string(d) + "' has no day " + std::to_string(day));
  return Status::OK();
}

// A TM value: HH[MM[SS[.F{1,6}]]] (colons of the old ACR-NEMA form allowed), each field in range.
Status CheckTime(std::string_view raw, const std::string& key) {
  std::string t;
  for (char c : raw)
    if (c != ':') t += c;
  const std::string bad = key + ": '" + std::string(raw) + "' is not a time (HHMMSS.FFFFFF)";
  const size_t dot = t.find('.');
  const std::string whole = t.substr(0, dot);
  if (whole.empty() || whole.size() % 2 != 0 || whole.size() > 6 || !AllDigits(whole)) return Status::InvalidArgument(bad);
  if (dot != std::string::npos) {
    const std::string frac = t.substr(dot + 1);
    if (whole.size() != 6 || frac.empty() || frac.size() > 6 || !AllDigits(frac)) return Status::InvalidArgument(bad);
  }
  const int limits[] = {23, 59, 60};  // 60: a leap second
  for (size_t i = 0; i < whole.size() / 2; ++i)
    if (std::stoi(whole.substr(2 * i, 2)) > limits[i]) return Status::InvalidArgument(bad);
  return Status::OK();
}

// A date or time key: one value or a range (A-B, -B, A-) whose ends are valid and ordered.
Status CheckDateTimeKey(const AttributeDef& def, const std::string& key, const std::string& value) {
  if (value.empty() || value == "*") return Status::OK();  // universal matching
  auto check = [&](std::string_view v) { return def.kind == MatchKind::kDate ? CheckDate(v, key) : CheckTime(v, key); };
  const size_t dash = value.find('-');
  if (dash == std::string::npos) return check(value);
  if (value.find('-', dash + 1) != std::string::npos)
    return Status::InvalidArgument(key + ": '" + value + "' is not a range (A-B, -B or A-)");
  const std::string lo = value.substr(0, dash), hi = value.substr(dash + 1);
  if (lo.empty() && hi.empty()) return Status::InvalidArgument(key + ": a range needs at least one end");
  if (!lo.empty()) STRATA_RETURN_IF_ERROR(check(lo));
  if (!hi.empty()) STRATA_RETURN_IF_ERROR(check(hi));
  if (!lo.empty() && !hi.empty() && def.kind == MatchKind::kDate && lo > hi)
    return Status::InvalidArgument(key + ": the range " + value + " ends before it starts");
  return Status::OK();
}

}  // namespace

Result<QidoRequest> ParseQidoParams(const std::multimap<std::string, std::string>& params, const QidoScope& scope) {
  QidoRequest out;
  out.query.level = scope.level;
  const QueryLevel level = scope.level;
  for (Tag t : DefaultTags(level)) out.return_tags.insert(t);
  // Unscoped series/instance queries also return their parents' defaults (PS3.18 10.6.3.3).
  if (level >= QueryLevel::kSeries && scope.study_uid.empty())
    for (Tag t : DefaultTags(QueryLevel::kStudy)) out.return_tags.insert(t);
  if (level == QueryLevel::kInstance && scope.series_uid.empty())
    for (Tag t : DefaultTags(QueryLevel::kSeries)) out.return_tags.insert(t);

  if (!scope.study_uid.empty()) {
    STRATA_RETURN_IF_ERROR(ValidateUid(scope.study_uid, "StudyInstanceUID"));
    out.query.keys.emplace_back(tags::kStudyInstanceUID, scope.study_uid);
  }
  if (!scope.series_uid.empty()) {
    STRATA_RETURN_IF_ERROR(ValidateUid(scope.series_uid, "SeriesInstanceUID"));
    out.query.keys.emplace_back(tags::kSeriesInstanceUID, scope.series_uid);
  }

  std::vector<std::string> ignored;
  for (const auto& [name, value] : params) {
    if (name == "limit" || name == "offset") {
      if (value.empty() || value.size() > 9 ||
          !std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); }))
        return Status::InvalidArgument(name + " must be a non-negative integer, not '" + value + "'");
      const size_t n = std::stoul(value);
      if (name == "limit") out.requested_limit = n;
      else out.query.offset = n;
      continue;
    }
    if (name == "fuzzymatching") {
      if (value != "true" && value != "false")
        return Status::InvalidArgument("fuzzymatching must be true or false, not '" + value + "'");
      if (value == "true")
        out.warnings.push_back("The fuzzymatching parameter is not supported. Only literal matching has been performed.");
      continue;
    }
    if (name == "accept" || name == "charset") continue;  // handled by content negotiation
    if (name == "includefield") {
      for (const auto& f : SplitComma(value)) {
        if (f.empty()) continue;  // "a,,b" or a trailing comma
        if (f == "all") {
          for (const auto& def : AllAttributes())
            if (Returnable(def, level)) out.return_tags.insert(def.tag);
          if (level == QueryLevel::kInstance) out.whole_header = out.query.with_header = true;
          continue;
        }
        const AttributeDef* def = FindAttributeByName(f);
        const std::optional<Tag> known = def != nullptr ? std::optional<Tag>(def->tag) : KnownAttribute(f);
        if (def != nullptr && Returnable(*def, level)) {
          out.return_tags.insert(def->tag);
        } else if (def != nullptr && IsPatientCount(def->tag)) {
          ignored.push_back(f);
        } else if (known) {
          // No column at this level: the catalog's copy of the header has it, if the data set did.
          out.header_tags.insert(*known);
          out.query.with_header = true;
        } else {
          return Status::InvalidArgument("includefield names an unknown attribute '" + f + "'");
        }
      }
      continue;
    }
    const AttributeDef* def = name.find('.') == std::string::npos ? FindAttributeByName(name) : nullptr;
    if (def == nullptr || def->level > level || IsPatientCount(def->tag) || def->kind == MatchKind::kSequence) {
      if (def != nullptr || name.find('.') != std::string::npos || IsKnownAttribute(name)) {
        ignored.push_back(name);
        continue;
      }
      return Status::InvalidArgument("unknown query parameter '" + name + "'");
    }
    if (def->kind == MatchKind::kDate || def->kind == MatchKind::kTime)
      STRATA_RETURN_IF_ERROR(CheckDateTimeKey(*def, name, value));
    std::string v = value;
    if (def->kind == MatchKind::kUid || def->tag == tags::kModalitiesInStudy || def->tag == tags::kModality)
      std::replace(v.begin(), v.end(), ',', '\\');
    out.query.keys.emplace_back(def->tag, v);
    out.return_tags.insert(def->tag);
  }
  if (!ignored.empty()) {
    std::string list;
    for (const auto& i : ignored) list += (list.empty() ? "" : ", ") + i;
    out.warnings.push_back("The following attributes are not supported for matching or return at this level and were ignored: " +
                           list);
  }
  const size_t cap = out.requested_limit == 0 ? kQidoMaxResults : std::min(out.requested_limit, kQidoMaxResults);
  out.query.limit = cap + 1;  // one more tells whether there are more results
  return out;
}

namespace {

std::string RetrieveUrl(const std::string& base, QueryLevel level, const AttributeValues& m) {
  auto get = [&](Tag t) {
    auto it = m.find(t);
    return it == m.end() ? std::string() : it->second;
  };
  std::string url = base + "/dicomweb/studies/" + get(tags::kStudyInstanceUID);
  if (level >= QueryLevel::kSeries) url += "/series/" + get(tags::kSeriesInstanceUID);
  if (level >= QueryLevel::kInstance) url += "/instances/" + get(tags::kSOPInstanceUID);
  return url;
}

// The Request Attributes Sequence from its catalog encoding (model/request_attributes.h).
nlohmann::json RequestAttributesJson(const std::string& encoded) {
  nlohmann::json out = {{"vr", "SQ"}};
  const auto items = DecodeRequestAttributes(encoded);
  if (items.empty()) return out;
  nlohmann::json values = nlohmann::json::array();
  for (const auto& it : items) {
    nlohmann::json item = nlohmann::json::object();
    item[TagHex(tags::kScheduledProcedureStepID)] = ValueToJson("SH", it.scheduled_procedure_step_id);
    item[TagHex(tags::kRequestedProcedureID)] = ValueToJson("SH", it.requested_procedure_id);
    values.push_back(std::move(item));
  }
  out["Value"] = std::move(values);
  return out;
}

// Adds the HEADER_TAGS (or, with WHOLE, every attribute) of the match's header JSON to O;
// attributes O already has (catalog columns) win.
void AddHeaderAttributes(const QidoRequest& q, const AttributeValues& match, nlohmann::json* o) {
  auto it = match.find(tags::kHeaderJson);
  if (it == match.end() || it->second.empty()) return;
  const nlohmann::json header = nlohmann::json::parse(it->second, nullptr, /*allow_exceptions=*/false);
  if (!header.is_object()) return;
  if (q.whole_header) {
    for (const auto& [key, value] : header.items())
      if (!o->contains(key)) (*o)[key] = value;
    return;
  }
  for (Tag t : q.header_tags) {
    const std::string key = TagHex(t);
    if (o->contains(key)) continue;
    auto h = header.find(key);
    if (h != header.end()) (*o)[key] = *h;
  }
}

void HandleQido(WebContext& ctx, const httplib::Request& req, httplib::Response& res, QidoScope scope) {
  if (!ChooseMediaType(RequestAccept(req), {"application/dicom+json", "application/json"})) {
    SendError(res, 406, "QIDO-RS answers application/dicom+json only");
    return;
  }
  std::multimap<std::string, std::string> params(req.params.begin(), req.params.end());
  auto parsed = ParseQidoParams(params, scope);
  if (!parsed.ok()) {
    SendStatus(res, parsed.status());
    return;
  }
  QidoRequest& q = parsed.value();
  auto found = ctx.archive->Find(q.query);
  if (!found.ok()) {
    SendStatus(res, found.status());
    return;
  }
  std::vector<AttributeValues>& matches = found.value();
  const size_t cap = q.query.limit - 1;
  if (matches.size() > cap) {
    matches.resize(cap);
    if (q.requested_limit == 0 || q.requested_limit > kQidoMaxResults)
      q.warnings.push_back("The number of results exceeded the maximum supported by the server (" +
                           std::to_string(kQidoMaxResults) + "). Additional results can be requested.");
    else
      q.warnings.push_back("There are additional results that can be requested.");
  }
  const std::string base = BaseUrl(req);
  std::string body = "[";
  for (size_t i = 0; i < matches.size(); ++i) {
    nlohmann::json o = nlohmann::json::object();
    o["00080005"] = {{"vr", "CS"}, {"Value", {"ISO_IR 192"}}};
    for (Tag t : q.return_tags) {
      const AttributeDef* def = FindAttribute(t);
      if (def == nullptr) continue;
      auto it = matches[i].find(t);
      const std::string value = it == matches[i].end() ? std::string() : it->second;
      o[TagHex(t)] = def->kind == MatchKind::kSequence ? RequestAttributesJson(value) : ValueToJson(def->vr, value);
    }
    AddHeaderAttributes(q, matches[i], &o);
    o["00080056"] = {{"vr", "CS"}, {"Value", {"ONLINE"}}};  // InstanceAvailability: both tiers are online
    o["00081190"] = {{"vr", "UR"}, {"Value", {RetrieveUrl(base, scope.level, matches[i])}}};
    if (i) body += ',';
    body += DumpJson(o);
  }
  body += ']';
  for (const auto& w : q.warnings) {
    std::string text = w;
    std::replace(text.begin(), text.end(), '"', '\'');
    res.set_header("Warning", "299 strata \"" + text + "\"");
  }
  res.set_content(body, "application/dicom+json");
}

}  // namespace

void RegisterQido(Router& server, WebContext& ctx) {
  const std::string uid = kUidRe;
  server.Get(R"(/dicomweb/studies/?)", [&ctx](const httplib::Request& req, httplib::Response& res) {
    HandleQido(ctx, req, res, QidoScope{QueryLevel::kStudy, "", ""});
  });
  server.Get(R"(/dicomweb/series/?)", [&ctx](const httplib::Request& req, httplib::Response& res) {
    HandleQido(ctx, req, res, QidoScope{QueryLevel::kSeries, "", ""});
  });
  server.Get(R"(/dicomweb/instances/?)", [&ctx](const httplib::Request& req, httplib::Response& res) {
    HandleQido(ctx, req, res, QidoScope{QueryLevel::kInstance, "", ""});
  });
  server.Get("/dicomweb/studies/" + uid + "/series/?", [&ctx](const httplib::Request& req, httplib::Response& res) {
    HandleQido(ctx, req, res, QidoScope{QueryLevel::kSeries, req.matches[1], ""});
  });
  server.Get("/dicomweb/studies/" + uid + "/instances/?", [&ctx](const httplib::Request& req, httplib::Response& res) {
    HandleQido(ctx, req, res, QidoScope{QueryLevel::kInstance, req.matches[1], ""});
  });
  server.Get("/dicomweb/studies/" + uid + "/series/" + uid + "/instances/?",
             [&ctx](const httplib::Request& req, httplib::Response& res) {
               HandleQido(ctx, req, res, QidoScope{QueryLevel::kInstance, req.matches[1], req.matches[2]});
             });
}

}  // namespace strata::web
