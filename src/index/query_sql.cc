#include "index/query_sql.h"

#include <algorithm>

#include "model/uid.h"
#include "util/utf8.h"

namespace strata {

bool HasWildcard(const std::string& value) {
  return value.find_first_of("*?") != std::string::npos;
}

std::string WildcardToLike(const std::string& pattern) {
  std::string out;
  for (char c : pattern) {
    switch (c) {
      case '*': out += '%'; break;
      case '?': out += '_'; break;
      case '%': case '_': case '!': out += '!'; out += c; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

std::vector<std::string> SplitBackslash(const std::string& v) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t p = v.find('\\', start);
    out.push_back(v.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return out;
}

bool IsDigits(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// Dates: YYYYMMDD (also accepts YYYY.MM.DD, the ACR-NEMA form some old SCUs send).
Result<std::string> NormDate(std::string d) {
  d.erase(std::remove(d.begin(), d.end(), '.'), d.end());
  if (d.size() != 8 || !IsDigits(d)) return Status::InvalidArgument("bad date '" + d + "'");
  return d;
}

Result<std::string> NormTime(std::string t) {
  t.erase(std::remove(t.begin(), t.end(), ':'), t.end());
  if (t.empty() || t.size() > 13) return Status::InvalidArgument("bad time '" + t + "'");
  for (char c : t)
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.') return Status::InvalidArgument("bad time '" + t + "'");
  return t;
}

struct Builder {
  std::string where;
  std::vector<SqlValue> params;
  void And(const std::string& cond) {
    where += where.empty() ? " WHERE " : " AND ";
    where += cond;
  }
};

Status AddCondition(const AttributeDef& def, const std::string& raw, PnMatch pn_match, Builder* b) {
  std::string value = raw;
  while (!value.empty() && (value.back() == ' ' || value.back() == '\0')) value.pop_back();
  if (value.empty() || value == "*") return Status::OK();  // universal matching
  std::string col = def.column;
  switch (def.kind) {
    case MatchKind::kString:
    case MatchKind::kPersonName: {
      if (def.kind == MatchKind::kPersonName && pn_match == PnMatch::kInsensitive) {
        col += "_fold";
        value = FoldForMatching(value);
      } else if (def.kind == MatchKind::kPersonName) {
        col += "_norm";
        value = Upper(value);
      }
      // A backslash list of values is "any of" for single-valued attributes.
      auto values = SplitBackslash(value);
      std::string cond;
      for (auto& v : values) {
        if (!cond.empty()) cond += " OR ";
        if (HasWildcard(v)) {
          cond += col + " LIKE ? ESCAPE '!'";
          b->params.emplace_back(WildcardToLike(v));
        } else {
          cond += col + " = ?";
          b->params.emplace_back(v);
        }
      }
      b->And("(" + cond + ")");
      return Status::OK();
    }
    case MatchKind::kUid: {
      auto uids = SplitBackslash(value);
      std::string list;
      for (auto& u : uids) {
        u = TrimUid(u);
        STRATA_RETURN_IF_ERROR(ValidateUid(u, def.keyword));
        list += list.empty() ? "?" : ",?";
        b->params.emplace_back(u);
      }
      b->And(col + " IN (" + list + ")");
      return Status::OK();
    }
    case MatchKind::kDate:
    case MatchKind::kTime: {
      auto norm = def.kind == MatchKind::kDate ? NormDate : NormTime;
      size_t dash = value.find('-');
      if (dash == std::string::npos) {
        STRATA_ASSIGN_OR_RETURN(std::string v, norm(value));
        if (def.kind == MatchKind::kTime) {  // 1030 matches 103000.123: prefix on given precision
          b->And(col + " LIKE ? ESCAPE '!'");
          b->params.emplace_back(WildcardToLike(v) + "%");
        } else {
          b->And(col + " = ?");
          b->params.emplace_back(v);
        }
        return Status::OK();
      }
      std::string lo = value.substr(0, dash), hi = value.substr(dash + 1);
      if (lo.empty() && hi.empty()) return Status::InvalidArgument(std::string("bad range for ") + def.keyword);
      if (!lo.empty()) {
        STRATA_ASSIGN_OR_RETURN(std::string v, norm(lo));
        b->And(col + " >= ?");
        b->params.emplace_back(v);
      }
      if (!hi.empty()) {
        STRATA_ASSIGN_OR_RETURN(std::string v, norm(hi));
        // '~' sorts after every digit and '.', so "1200" includes "120000.5".
        if (def.kind == MatchKind::kTime) v += "~";
        b->And(col + " <= ? AND " + col + " <> ''");
        b->params.emplace_back(v);
      }
      return Status::OK();
    }
    case MatchKind::kInt: {
      try {
        size_t used = 0;
        int64_t n = std::stoll(value, &used);
        if (used != value.size()) throw std::invalid_argument("trailing");
        b->And(col + " = ?");
        b->params.emplace_back(n);
      } catch (...) {
        return Status::InvalidArgument(std::string("bad number for ") + def.keyword + ": '" + value + "'");
      }
      return Status::OK();
    }
    case MatchKind::kSequence:
      return Status::OK();  // return-only
    case MatchKind::kComputed: {
      if (def.tag == tags::kModalitiesInStudy) {
        std::string cond;
        for (auto& m : SplitBackslash(value)) {
          if (m.empty()) continue;
          if (!cond.empty()) cond += " OR ";
          cond += "('\\' || st.modalities || '\\') LIKE ? ESCAPE '!'";
          b->params.emplace_back("%\\" + WildcardToLike(m) + "\\%");
        }
        if (!cond.empty()) b->And("(" + cond + ")");
        return Status::OK();
      }
      if (*def.column) {  // counters kept in columns
        try {
          b->And(std::string(def.column) + " = ?");
          b->params.emplace_back(static_cast<int64_t>(std::stoll(value)));
        } catch (...) {
          return Status::InvalidArgument(std::string("bad number for ") + def.keyword);
        }
      }
      return Status::OK();  // patient-level counts: return-only
    }
  }
  return Status::OK();
}

std::string SelectExpr(const AttributeDef& def) {
  switch (def.tag) {
    // A study whose every instance is rejected (IOCM) has counted them all out: not counted.
    case tags::kNumberOfPatientRelatedStudies:
      return "(SELECT COUNT(*) FROM studies s2 WHERE s2.patient_pk = p.pk AND s2.num_instances > 0)";
    case tags::kNumberOfPatientRelatedSeries:
      return "(SELECT COALESCE(SUM(s2.num_series),0) FROM studies s2 WHERE s2.patient_pk = p.pk)";
    case tags::kNumberOfPatientRelatedInstances:
      return "(SELECT COALESCE(SUM(s2.num_instances),0) FROM studies s2 WHERE s2.patient_pk = p.pk)";
    default:
      return def.column;
  }
}

}  // namespace

Result<SqlQuery> BuildFindSql(const Query& query, PnMatch pn_match) {
  SqlQuery out;
  Builder b;
  const QueryLevel level = query.level;
  std::string select;
  for (const auto& def : AllAttributes()) {
    if (def.level > level) continue;
    // Patient-level counts are only computed for patient-level queries (they cost subqueries).
    if (level != QueryLevel::kPatient &&
        (def.tag == tags::kNumberOfPatientRelatedStudies || def.tag == tags::kNumberOfPatientRelatedSeries ||
         def.tag == tags::kNumberOfPatientRelatedInstances))
      continue;
    select += select.empty() ? "" : ", ";
    select += SelectExpr(def);
    out.columns.push_back(&def);
  }
  if (query.with_header && level != QueryLevel::kPatient) {
    static const AttributeDef header{tags::kHeaderJson, "", "", QueryLevel::kInstance, MatchKind::kSequence, ""};
    select += ", ";
    if (level == QueryLevel::kInstance)
      select += "i.header_json";
    else
      select += std::string("(SELECT i2.header_json FROM instances i2 WHERE i2.") +
                (level == QueryLevel::kStudy ? "study_pk = st.pk" : "series_pk = se.pk") +
                " ORDER BY i2.instance_number, i2.pk LIMIT 1)";
    out.columns.push_back(&header);
  }
  for (const auto& [tag, value] : query.keys) {
    const AttributeDef* def = FindAttribute(tag);
    if (!def || def->level > level) continue;  // unknown / lower-level keys: not matched
    STRATA_RETURN_IF_ERROR(AddCondition(*def, value, pn_match, &b));
  }
  std::string from;
  std::string order;
  switch (level) {
    case QueryLevel::kPatient: from = " FROM patients p"; order = " ORDER BY p.pk"; break;
    case QueryLevel::kStudy:
      from = " FROM studies st JOIN patients p ON p.pk = st.patient_pk";
      // Newest first on both engines: '' sorts last through the CASE; study_date/study_time
      // are DA/TM text (YYYYMMDD, HHMMSS.FFFFFF), so text order is time order.
      order = query.newest_first ? " ORDER BY CASE WHEN st.study_date = '' THEN 1 ELSE 0 END, st.study_date DESC,"
                                   " st.study_time DESC, st.pk"
                                 : " ORDER BY st.pk";
      break;
    case QueryLevel::kSeries:
      from = " FROM series se JOIN studies st ON st.pk = se.study_pk JOIN patients p ON p.pk = st.patient_pk";
      order = " ORDER BY se.pk";
      break;
    case QueryLevel::kInstance:
      from = " FROM instances i JOIN series se ON se.pk = i.series_pk JOIN studies st ON st.pk = se.study_pk"
             " JOIN patients p ON p.pk = st.patient_pk";
      order = " ORDER BY se.pk, i.instance_number, i.pk";
      break;
  }
  // IOCM rejection (sql_lifecycle_rejection.cc): rejected instances are hidden; a series or
  // study whose every instance is rejected has counted them all out, and a patient whose
  // every study is so is not listed. Nor is a patient row with no study at all: the catalog
  // deletes such a row with its last study, one left by an older build has nothing to show.
  const char* visible = level == QueryLevel::kPatient
                            ? "EXISTS (SELECT 1 FROM studies sv WHERE sv.patient_pk = p.pk AND sv.num_instances > 0)"
                        : level == QueryLevel::kStudy  ? "st.num_instances > 0"
                        : level == QueryLevel::kSeries ? "se.num_instances > 0"
                        : level == QueryLevel::kInstance
                            ? "NOT EXISTS (SELECT 1 FROM rejected_instances rj WHERE rj.sop_uid = i.sop_uid)"
                            : "";
  std::string where = b.where;
  if (*visible) where += (where.empty() ? " WHERE " : " AND ") + std::string(visible);
  out.sql = "SELECT " + select + from + where + order;
  out.count_sql = "SELECT COUNT(*)" + from + where;
  out.params = std::move(b.params);
  out.count_params = out.params.size();
  if (query.limit > 0 || query.offset > 0) {
    out.sql += " LIMIT ? OFFSET ?";
    out.params.emplace_back(static_cast<int64_t>(query.limit > 0 ? query.limit : INT32_MAX));
    out.params.emplace_back(static_cast<int64_t>(query.offset));
  }
  return out;
}

}  // namespace strata
