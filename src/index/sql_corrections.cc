// Corrections of SqlCatalog (issue 15): patient/study attribute changes and patient merges,
// written with their correction records in ONE transaction, so that C-FIND and QIDO-RS on
// every node answer with the new values at once while the archive patches the stored bytes
// on the way out from the records (archive/correction.h).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "index/sql_catalog_internal.h"
#include "model/attributes.h"
#include "model/uid.h"
#include "util/utf8.h"

namespace strata {
namespace {

// v9: one row per changed attribute of one study. STUDY_PK ties a record to the study row it
// was made on: a study deleted and sent again gets a new row and starts without corrections.
const char* kSchemaV9 = R"SQL(
CREATE TABLE IF NOT EXISTS corrections (
  pk {PK}, study_uid TEXT NOT NULL, study_pk BIGINT NOT NULL, change_id BIGINT NOT NULL,
  attribute_tag TEXT NOT NULL, old_value TEXT NOT NULL, new_value TEXT NOT NULL, who TEXT NOT NULL,
  reason TEXT NOT NULL, kind TEXT NOT NULL, at_ms BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS corrections_study ON corrections (study_uid, pk);
)SQL";

std::string UpperAscii(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

std::string TagText(uint32_t tag) {
  char buf[9];
  std::snprintf(buf, sizeof(buf), "%08X", tag);
  return buf;
}

uint32_t ParseTagText(const std::string& s) { return static_cast<uint32_t>(std::stoul(s, nullptr, 16)); }

// The patient attributes, in the order of the patients columns read by ReadPatient.
constexpr uint32_t kPatientTags[] = {tags::kPatientID, tags::kIssuerOfPatientID, tags::kPatientName,
                                     tags::kPatientBirthDate, tags::kPatientSex};
constexpr const char* kPatientColumns[] = {"patient_id", "issuer", "patient_name", "birth_date", "sex"};
struct StudyColumn {
  uint32_t tag;
  const char* column;
};
constexpr StudyColumn kStudyColumns[] = {
    {tags::kStudyDate, "study_date"},        {tags::kAccessionNumber, "accession"},
    {tags::kStudyID, "study_id"},            {tags::kStudyDescription, "description"},
    {tags::kReferringPhysicianName, "referring"},
};

bool IsPatientTag(uint32_t tag) { return std::find(std::begin(kPatientTags), std::end(kPatientTags), tag) != std::end(kPatientTags); }

struct PatientRow {
  int64_t pk = 0;
  std::map<uint32_t, std::string> values;  // the five patient attributes
};

Result<std::optional<PatientRow>> ReadPatient(SqlConnection& c, const char* where, const std::vector<SqlValue>& params,
                                              bool lock) {
  STRATA_ASSIGN_OR_RETURN(auto rows, c.Query(std::string("SELECT pk, patient_id, issuer, patient_name, birth_date, sex"
                                                         " FROM patients WHERE ") + where + (lock ? " FOR UPDATE" : ""),
                                             params));
  if (rows.empty()) return std::optional<PatientRow>();
  PatientRow p;
  p.pk = SqlInt(rows[0][0]);
  for (size_t k = 0; k < 5; ++k) p.values[kPatientTags[k]] = SqlText(rows[0][k + 1]);
  return std::optional<PatientRow>(std::move(p));
}

// Writes VALUES (patient attributes) into patient row PK, with the name's matching columns.
Status WritePatient(SqlConnection& c, int64_t pk, const std::map<uint32_t, std::string>& values) {
  const std::string& name = values.at(tags::kPatientName);
  STRATA_ASSIGN_OR_RETURN(auto n, c.Exec(
      "UPDATE patients SET patient_id = ?, issuer = ?, patient_name = ?, patient_name_norm = ?, patient_name_fold = ?,"
      " birth_date = ?, sex = ? WHERE pk = ?",
      {values.at(tags::kPatientID), values.at(tags::kIssuerOfPatientID), name, UpperAscii(name),
       FoldForMatching(name), values.at(tags::kPatientBirthDate), values.at(tags::kPatientSex), pk}));
  (void)n;
  return Status::OK();
}

struct StudyRef {
  int64_t pk;
  std::string uid;
};

Result<std::vector<StudyRef>> StudiesOf(SqlConnection& c, int64_t patient_pk) {
  STRATA_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT pk, study_uid FROM studies WHERE patient_pk = ? ORDER BY pk",
                                             {patient_pk}));
  std::vector<StudyRef> out;
  for (const auto& r : rows) out.push_back({SqlInt(r[0]), SqlText(r[1])});
  return out;
}

// Writes the records of one change (kind, who, reason, clock, id shared by its rows).
class Recorder {
 public:
  Recorder(SqlConnection& c, std::string kind, std::string who, std::string reason)
      : c_(c), kind_(std::move(kind)), who_(std::move(who)), reason_(std::move(reason)) {}
  // AT_MS: the time the caller stamps the change with; 0 takes the catalog's clock.
  Status Begin(const char* db_now, int64_t at_ms) {
    if (at_ms > 0) {
      at_ms_ = at_ms;
    } else {
      STRATA_ASSIGN_OR_RETURN(auto now, c_.Query(std::string("SELECT ") + db_now, {}));
      at_ms_ = SqlInt(now[0][0]);
    }
    STRATA_ASSIGN_OR_RETURN(auto id, c_.Query("SELECT COALESCE(MAX(change_id), 0) + 1 FROM corrections", {}));
    change_id_ = SqlInt(id[0][0]);
    return Status::OK();
  }
  // One record unless OLD and NEW are the same.
  Status Add(const StudyRef& study, uint32_t tag, const std::string& old_value, const std::string& new_value) {
    if (old_value == new_value) return Status::OK();
    STRATA_ASSIGN_OR_RETURN(auto n, c_.Exec(
        "INSERT INTO corrections (study_uid, study_pk, change_id, attribute_tag, old_value, new_value, who, reason,"
        " kind, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {study.uid, study.pk, change_id_, TagText(tag), old_value, new_value, who_, reason_, kind_, at_ms_}));
    (void)n;
    records_.push_back({study.uid, change_id_, tag, old_value, new_value, who_, reason_, kind_, at_ms_});
    return Status::OK();
  }
  std::vector<CorrectionRecord>& records() { return records_; }
  // One lifecycle_events row per study this change touched (index/sql_lifecycle_events.cc),
  // in the same transaction: the archive page's list shows corrections and merges beside
  // deletes and rejections. Old and new values by keyword.
  Status RecordLifecycleEvents(const std::string& now_sql) {
    std::map<std::string, std::pair<nlohmann::ordered_json, nlohmann::ordered_json>> by_study;
    for (const CorrectionRecord& r : records_) {
      const AttributeDef* def = FindAttribute(r.tag);
      const std::string key = def ? def->keyword : TagText(r.tag);
      auto& [old_values, new_values] = by_study[r.study_uid];
      old_values[key] = r.old_value;
      new_values[key] = r.new_value;
    }
    for (const auto& [study_uid, values] : by_study) {
      STRATA_ASSIGN_OR_RETURN(StudyState now, ReadStudyState(c_, study_uid));
      LifecycleEvent e;
      e.action = kind_;
      e.who = who_;
      e.reason = reason_;
      e.study_uid = study_uid;
      NameStudy(now, &e);
      e.instances = now.instances;
      const auto dump = [](const nlohmann::ordered_json& j) {
        return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      };
      e.old_values = dump(values.first);
      e.new_values = dump(values.second);
      STRATA_RETURN_IF_ERROR(InsertLifecycleEvent(c_, now_sql, &e));
    }
    return Status::OK();
  }

 private:
  SqlConnection& c_;
  std::string kind_, who_, reason_;
  int64_t at_ms_ = 0, change_id_ = 0;
  std::vector<CorrectionRecord> records_;
};

// Moves STUDY from patient FROM to patient TO (whose values are final): one record per
// patient attribute that differs; FROM's row is deleted once it has no study left.
Status MoveStudy(SqlConnection& c, Recorder& rec, const StudyRef& study, const PatientRow& from, const PatientRow& to) {
  for (uint32_t tag : kPatientTags) STRATA_RETURN_IF_ERROR(rec.Add(study, tag, from.values.at(tag), to.values.at(tag)));
  STRATA_ASSIGN_OR_RETURN(auto n, c.Exec("UPDATE studies SET patient_pk = ? WHERE pk = ?", {to.pk, study.pk}));
  STRATA_ASSIGN_OR_RETURN(auto gone, c.Exec("DELETE FROM patients WHERE pk = ? AND NOT EXISTS"
                                            " (SELECT 1 FROM studies WHERE patient_pk = ?)", {from.pk, from.pk}));
  (void)n; (void)gone;
  return Status::OK();
}

// Runs FN in a transaction, again when a concurrent writer won a key (PostgreSQL).
template <typename Fn>
Status WithRetry(SqlConnection& conn, Fn&& fn) {
  Status s;
  for (int attempt = 0; attempt < 5; ++attempt) {
    s = InTransaction(conn, fn);
    if (s.code() != Status::Code::kConflict && s.code() != Status::Code::kUnavailable) break;
  }
  return s;
}

}  // namespace

const char* CorrectionsSchemaV9() { return kSchemaV9; }

Result<std::vector<CorrectionRecord>> SqlCatalog::CorrectStudy(
    const std::string& study_uid, const std::vector<std::pair<uint32_t, std::string>>& changes, const std::string& who,
    const std::string& reason, int64_t at_ms) {
  STRATA_RETURN_IF_ERROR(ValidateUid(study_uid, "StudyInstanceUID"));
  std::map<uint32_t, std::string> patient_changes, study_changes;
  for (const auto& [tag, value] : changes) {
    const bool study_level = std::any_of(std::begin(kStudyColumns), std::end(kStudyColumns),
                                         [tag = tag](const StudyColumn& s) { return s.tag == tag; });
    if (!study_level && !IsPatientTag(tag))
      return Status::InvalidArgument("attribute " + TagText(tag) + " cannot be corrected");
    (study_level ? study_changes : patient_changes)[tag] = value;
  }
  const bool pg = db_->dialect() == SqlDialect::kPostgres;
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(true));
  std::vector<CorrectionRecord> out;
  Status s = WithRetry(*conn, [&]() -> Status {
    SqlConnection& c = *conn;
    Recorder rec(c, "correct", who, reason);
    STRATA_RETURN_IF_ERROR(rec.Begin(DbNow(), at_ms));
    // The study row locked first, as a delete does: a store into it waits for us.
    std::string sql = "SELECT pk, patient_pk";
    for (const StudyColumn& col : kStudyColumns) sql += std::string(", ") + col.column;
    sql += " FROM studies WHERE study_uid = ?";
    if (pg) sql += " FOR UPDATE";
    STRATA_ASSIGN_OR_RETURN(auto srow, c.Query(sql, {study_uid}));
    if (srow.empty()) return Status::NotFound("no study " + study_uid);
    const StudyRef study{SqlInt(srow[0][0]), study_uid};
    const int64_t patient_pk = SqlInt(srow[0][1]);
    for (size_t k = 0; k < std::size(kStudyColumns); ++k) {
      const StudyColumn& col = kStudyColumns[k];
      auto it = study_changes.find(col.tag);
      if (it == study_changes.end() || SqlText(srow[0][k + 2]) == it->second) continue;
      STRATA_RETURN_IF_ERROR(rec.Add(study, col.tag, SqlText(srow[0][k + 2]), it->second));
      std::string set = std::string(col.column) + " = ?";
      std::vector<SqlValue> params{it->second};
      if (col.tag == tags::kReferringPhysicianName) {
        set += ", referring_norm = ?, referring_fold = ?";
        params.emplace_back(UpperAscii(it->second));
        params.emplace_back(FoldForMatching(it->second));
      }
      params.emplace_back(study.pk);
      STRATA_ASSIGN_OR_RETURN(auto n, c.Exec("UPDATE studies SET " + set + " WHERE pk = ?", params));
      (void)n;
    }
    if (patient_changes.empty()) {
      STRATA_RETURN_IF_ERROR(rec.RecordLifecycleEvents(DbNow()));
    out = std::move(rec.records());
      return Status::OK();
    }
    STRATA_ASSIGN_OR_RETURN(auto current, ReadPatient(c, "pk = ?", {patient_pk}, pg));
    if (!current) return Status::Corruption("study " + study_uid + " names a missing patient row");
    const PatientRow from = *current;
    PatientRow wanted = from;  // the identity asked for
    for (const auto& [tag, value] : patient_changes) wanted.values[tag] = value;
    const bool same_identity = wanted.values[tags::kPatientID] == from.values.at(tags::kPatientID) &&
                               wanted.values[tags::kIssuerOfPatientID] == from.values.at(tags::kIssuerOfPatientID);
    STRATA_ASSIGN_OR_RETURN(auto studies, StudiesOf(c, from.pk));
    if (same_identity || studies.size() == 1) {
      // The patient row itself changes (demographics, or the identity of a patient with
      // just this study), unless another row already has the new identity.
      std::optional<PatientRow> other;
      if (!same_identity) {
        STRATA_ASSIGN_OR_RETURN(other, ReadPatient(c, "patient_id = ? AND issuer = ?",
                                                   {wanted.values[tags::kPatientID],
                                                    wanted.values[tags::kIssuerOfPatientID]}, pg));
      }
      if (!other) {
        for (const StudyRef& st : studies)
          for (uint32_t tag : kPatientTags)
            STRATA_RETURN_IF_ERROR(rec.Add(st, tag, from.values.at(tag), wanted.values[tag]));
        STRATA_RETURN_IF_ERROR(WritePatient(c, from.pk, wanted.values));
        STRATA_RETURN_IF_ERROR(rec.RecordLifecycleEvents(DbNow()));
    out = std::move(rec.records());
        return Status::OK();
      }
    }
    // The study moves to the patient with the new identity (created when missing). Values the
    // request names win over that patient's own, and reach its other studies too.
    STRATA_ASSIGN_OR_RETURN(auto target, ReadPatient(c, "patient_id = ? AND issuer = ?",
                                                     {wanted.values[tags::kPatientID],
                                                      wanted.values[tags::kIssuerOfPatientID]}, pg));
    PatientRow to;
    if (!target) {
      STRATA_ASSIGN_OR_RETURN(auto ins, c.Query(
          "INSERT INTO patients (patient_id, issuer, patient_name, patient_name_norm, patient_name_fold, birth_date,"
          " sex) VALUES (?, ?, '', '', '', '', '') RETURNING pk",
          {wanted.values[tags::kPatientID], wanted.values[tags::kIssuerOfPatientID]}));
      to.pk = SqlInt(ins[0][0]);
      to.values = wanted.values;
      STRATA_RETURN_IF_ERROR(WritePatient(c, to.pk, to.values));
    } else {
      to = *target;
      PatientRow updated = to;
      for (const auto& [tag, value] : patient_changes) updated.values[tag] = value;
      if (updated.values != to.values) {
        STRATA_ASSIGN_OR_RETURN(auto others, StudiesOf(c, to.pk));
        for (const StudyRef& st : others)
          for (uint32_t tag : kPatientTags)
            STRATA_RETURN_IF_ERROR(rec.Add(st, tag, to.values.at(tag), updated.values.at(tag)));
        STRATA_RETURN_IF_ERROR(WritePatient(c, to.pk, updated.values));
        to = updated;
      }
    }
    STRATA_RETURN_IF_ERROR(MoveStudy(c, rec, study, from, to));
    STRATA_RETURN_IF_ERROR(rec.RecordLifecycleEvents(DbNow()));
    out = std::move(rec.records());
    return Status::OK();
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<CorrectionRecord>> SqlCatalog::MergePatients(const std::string& from_id,
                                                                const std::string& from_issuer,
                                                                const std::string& to_id, const std::string& to_issuer,
                                                                const std::string& who, const std::string& reason,
                                                                int64_t at_ms) {
  if (from_id == to_id && from_issuer == to_issuer)
    return Status::InvalidArgument("cannot merge patient '" + from_id + "' into itself");
  const bool pg = db_->dialect() == SqlDialect::kPostgres;
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(true));
  std::vector<CorrectionRecord> out;
  Status s = WithRetry(*conn, [&]() -> Status {
    SqlConnection& c = *conn;
    Recorder rec(c, "merge", who, reason);
    STRATA_RETURN_IF_ERROR(rec.Begin(DbNow(), at_ms));
    STRATA_ASSIGN_OR_RETURN(auto from, ReadPatient(c, "patient_id = ? AND issuer = ?", {from_id, from_issuer}, pg));
    if (!from) return Status::NotFound("no patient '" + from_id + "' (issuer '" + from_issuer + "')");
    STRATA_ASSIGN_OR_RETURN(auto to, ReadPatient(c, "patient_id = ? AND issuer = ?", {to_id, to_issuer}, pg));
    if (!to) return Status::NotFound("no patient '" + to_id + "' (issuer '" + to_issuer + "')");
    STRATA_ASSIGN_OR_RETURN(auto studies, StudiesOf(c, from->pk));
    for (const StudyRef& st : studies) STRATA_RETURN_IF_ERROR(MoveStudy(c, rec, st, *from, *to));
    STRATA_ASSIGN_OR_RETURN(auto gone, c.Exec("DELETE FROM patients WHERE pk = ? AND NOT EXISTS"
                                              " (SELECT 1 FROM studies WHERE patient_pk = ?)", {from->pk, from->pk}));
    (void)gone;
    STRATA_RETURN_IF_ERROR(rec.RecordLifecycleEvents(DbNow()));
    out = std::move(rec.records());
    return Status::OK();
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<CorrectionRecord>> SqlCatalog::ListCorrections(const std::string& study_uid) {
  STRATA_RETURN_IF_ERROR(ValidateUid(study_uid, "StudyInstanceUID"));
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(false));
  STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query(
      "SELECT c.change_id, c.attribute_tag, c.old_value, c.new_value, c.who, c.reason, c.kind, c.at_ms"
      " FROM corrections c JOIN studies st ON st.pk = c.study_pk AND st.study_uid = c.study_uid"
      " WHERE c.study_uid = ? ORDER BY c.pk", {study_uid}));
  std::vector<CorrectionRecord> out;
  out.reserve(rows.size());
  for (const auto& r : rows)
    out.push_back({study_uid, SqlInt(r[0]), ParseTagText(SqlText(r[1])), SqlText(r[2]), SqlText(r[3]), SqlText(r[4]),
                   SqlText(r[5]), SqlText(r[6]), SqlInt(r[7])});
  return out;
}

}  // namespace strata
