// Patient rows and study counters through the lifecycle, on every engine (SQLite always,
// PostgreSQL when STRATA_TEST_PG_URL names a server): an instance without an issuer joins the
// only patient with its PatientID; no store, delete, rejection, correction or merge leaves a
// patient row without a study, and the patient level never lists one; a series whose every
// instance is rejected leaves the study's ModalitiesInStudy and counters, and comes back with
// a new instance.
#include <gtest/gtest.h>

#include <map>

#include "catalog_fixture.h"
#include "index/catalog.h"

namespace strata {
namespace {

InstanceRecord Make(const std::string& patient, const std::string& issuer, const std::string& study,
                    const std::string& series, const std::string& sop, const std::string& modality = "CT",
                    int64_t number = 1) {
  InstanceRecord r = TestInstance(patient, study, series, sop, number);
  r.issuer = issuer;
  r.patient_name = "Doe^" + patient + issuer;
  r.modality = modality;
  return r;
}

class PatientRowsTest : public CatalogFixture {
 protected:
  // Patient-level matches for PatientID ID: issuer -> NumberOfPatientRelatedStudies.
  std::map<std::string, std::string> Patients(const std::string& id = "") {
    auto r = Find(QueryLevel::kPatient, {{tags::kPatientID, id}, {tags::kIssuerOfPatientID, ""},
                                         {tags::kNumberOfPatientRelatedStudies, ""}});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::map<std::string, std::string> out;
    if (r.ok())
      for (auto& row : *r) out[row[tags::kPatientID] + "/" + row[tags::kIssuerOfPatientID]] =
                               row[tags::kNumberOfPatientRelatedStudies];
    return out;
  }
  int64_t EmptyPatientRows() {
    return SqlNumber("SELECT COUNT(*) FROM patients p WHERE NOT EXISTS"
                     " (SELECT 1 FROM studies s WHERE s.patient_pk = p.pk)");
  }
  AttributeValues Study(const std::string& uid) {
    auto r = Find(QueryLevel::kStudy, {{tags::kStudyInstanceUID, uid}, {tags::kModalitiesInStudy, ""},
                                       {tags::kNumberOfStudyRelatedSeries, ""},
                                       {tags::kNumberOfStudyRelatedInstances, ""}});
    EXPECT_TRUE(r.ok() && r->size() == 1) << uid;
    return r.ok() && r->size() == 1 ? r->at(0) : AttributeValues{};
  }
};

// PS3.3 C.7.1.1: PatientID is unique only within its issuer. An instance that names no issuer
// joins the only patient with its ID (as dcm4chee-arc does); with several such patients it
// cannot choose, and keeps to the one without an issuer (created when missing). An instance
// that names an issuer is that issuer's patient.
TEST_P(PatientRowsTest, NoIssuerJoinsTheOnlyPatientWithThatId) {
  Add({Make("X1", "HOSP_A", "1.2.20.1", "1.2.20.1.1", "1.2.20.1.1.1")});
  Add({Make("X1", "", "1.2.20.2", "1.2.20.2.1", "1.2.20.2.1.1")});
  EXPECT_EQ(Patients("X1"), (std::map<std::string, std::string>{{"X1/HOSP_A", "2"}}));
  EXPECT_EQ(cat_->Stats()->patients, 1u);
  EXPECT_EQ(cat_->GetInstance("1.2.20.2.1.1")->issuer, "HOSP_A");
  // Another issuer's X1 is another patient.
  Add({Make("X1", "HOSP_B", "1.2.20.3", "1.2.20.3.1", "1.2.20.3.1.1")});
  EXPECT_EQ(Patients("X1"), (std::map<std::string, std::string>{{"X1/HOSP_A", "2"}, {"X1/HOSP_B", "1"}}));
  // Now ambiguous: a patient of its own, and the next one without an issuer joins it.
  Add({Make("X1", "", "1.2.20.4", "1.2.20.4.1", "1.2.20.4.1.1")});
  Add({Make("X1", "", "1.2.20.5", "1.2.20.5.1", "1.2.20.5.1.1")});
  EXPECT_EQ(Patients("X1"),
            (std::map<std::string, std::string>{{"X1/", "2"}, {"X1/HOSP_A", "2"}, {"X1/HOSP_B", "1"}}));
  // An empty PatientID is no identity to join by.
  Add({Make("", "HOSP_A", "1.2.20.6", "1.2.20.6.1", "1.2.20.6.1.1")});
  Add({Make("", "", "1.2.20.7", "1.2.20.7.1", "1.2.20.7.1.1")});
  EXPECT_EQ(cat_->GetInstance("1.2.20.7.1.1")->issuer, "");
  EXPECT_EQ(cat_->Stats()->patients, 5u);
  // A later instance of a catalogued study keeps to the study's patient, whatever it carries.
  Add({Make("X1", "", "1.2.20.3", "1.2.20.3.1", "1.2.20.3.1.2", "CT", 2)});
  EXPECT_EQ(cat_->GetInstance("1.2.20.3.1.2")->issuer, "HOSP_B");
  EXPECT_EQ(EmptyPatientRows(), 0);
}

// Every path that moves or removes a study removes its patient row in the same transaction
// once it has no study left; none leaves a patient listed with no study.
TEST_P(PatientRowsTest, NoPathLeavesAPatientWithoutAStudy) {
  Add({Make("A", "", "1.2.21.1", "1.2.21.1.1", "1.2.21.1.1.1"), Make("B", "", "1.2.21.2", "1.2.21.2.1", "1.2.21.2.1.1"),
       Make("C", "", "1.2.21.3", "1.2.21.3.1", "1.2.21.3.1.1"), Make("D", "ISS", "1.2.21.4", "1.2.21.4.1", "1.2.21.4.1.1"),
       Make("E", "", "1.2.21.5", "1.2.21.5.1", "1.2.21.5.1.1"), Make("F", "", "1.2.21.6", "1.2.21.6.1", "1.2.21.6.1.1"),
       Make("F", "", "1.2.21.6", "1.2.21.6.1", "1.2.21.6.1.2", "CT", 2)});
  ASSERT_EQ(Patients().size(), 6u);
  // A delete of a patient's last study.
  ASSERT_TRUE(cat_->DeleteInstances("1.2.21.1", "", "").ok());
  EXPECT_EQ(EmptyPatientRows(), 0);
  EXPECT_EQ(Patients("A").size(), 0u);
  // A correction of PatientID onto an existing patient: B's only study moves to C.
  ASSERT_TRUE(cat_->CorrectStudy("1.2.21.2", {{tags::kPatientID, "C"}}, "t", "").ok());
  EXPECT_EQ(EmptyPatientRows(), 0);
  EXPECT_EQ(Patients("C"), (std::map<std::string, std::string>{{"C/", "2"}}));
  // Corrections of the issuer: one of D/ISS's two studies to a new D/OTHER, then its last
  // one onto D/OTHER (D/ISS goes).
  Add({Make("D", "", "1.2.21.7", "1.2.21.7.1", "1.2.21.7.1.1")});  // joins D/ISS (the only D)
  ASSERT_TRUE(cat_->CorrectStudy("1.2.21.7", {{tags::kIssuerOfPatientID, "OTHER"}}, "t", "").ok());
  ASSERT_TRUE(cat_->CorrectStudy("1.2.21.4", {{tags::kIssuerOfPatientID, "OTHER"}}, "t", "").ok());
  EXPECT_EQ(EmptyPatientRows(), 0);
  EXPECT_EQ(Patients("D"), (std::map<std::string, std::string>{{"D/OTHER", "2"}}));
  // A merge.
  ASSERT_TRUE(cat_->MergePatients("E", "", "C", "", "t", "").ok());
  EXPECT_EQ(EmptyPatientRows(), 0);
  EXPECT_EQ(Patients("E").size(), 0u);
  // The last study rejected: its rows stay for the grace period, the patient is not listed;
  // the grace deletion then removes the patient row with the study.
  ASSERT_EQ(cat_->RejectInstances({{"1.2.21.6.1.1", "1.2.21.6.1", "1.2.21.6", "113001", "1.2.21.9", 0},
                                   {"1.2.21.6.1.2", "1.2.21.6.1", "1.2.21.6", "113001", "1.2.21.9", 0}})
                .value(),
            2u);
  EXPECT_EQ(Patients("F").size(), 0u);
  auto gone = cat_->DeleteInstanceList("1.2.21.6", {"1.2.21.6.1.1", "1.2.21.6.1.2"}, {"rejected-expired", "t", ""});
  ASSERT_TRUE(gone.ok()) << gone.status().ToString();
  EXPECT_EQ(gone->instances.size(), 2u);
  EXPECT_EQ(EmptyPatientRows(), 0);
  EXPECT_EQ(SqlNumber("SELECT COUNT(*) FROM studies WHERE study_uid = '1.2.21.6'"), 0);
  EXPECT_EQ(Patients(), (std::map<std::string, std::string>{{"C/", "3"}, {"D/OTHER", "2"}}));
  EXPECT_EQ(cat_->Stats()->patients, 2u);
}

// A patient row with no study (left by an older build) is not listed at the patient level.
TEST_P(PatientRowsTest, APatientRowWithoutAStudyIsNotListed) {
  Add({Make("G", "", "1.2.22.1", "1.2.22.1.1", "1.2.22.1.1.1")});
  Sql("INSERT INTO patients (patient_id, issuer, patient_name, patient_name_norm, patient_name_fold, birth_date, sex)"
      " VALUES ('G', 'LEFT', 'Doe^G', 'DOE^G', 'doe^g', '', '')");
  EXPECT_EQ(EmptyPatientRows(), 1);
  EXPECT_EQ(Patients("G"), (std::map<std::string, std::string>{{"G/", "1"}}));
  Query q;
  q.level = QueryLevel::kPatient;
  q.keys = {{tags::kPatientID, "G"}};
  EXPECT_EQ(cat_->Count(q).value(), 1u);
}

// A series whose every instance is rejected leaves ModalitiesInStudy and the counters; a new
// instance in it brings it back; a delete elsewhere in the study does not bring it back.
TEST_P(PatientRowsTest, WhollyRejectedSeriesLeaveModalities) {
  Add({Make("H", "", "1.2.23.1", "1.2.23.1.1", "1.2.23.1.1.1", "CT", 1),
       Make("H", "", "1.2.23.1", "1.2.23.1.1", "1.2.23.1.1.2", "CT", 2),
       Make("H", "", "1.2.23.1", "1.2.23.1.2", "1.2.23.1.2.1", "MR", 3),
       Make("H", "", "1.2.23.1", "1.2.23.1.3", "1.2.23.1.3.1", "SR", 4)});
  EXPECT_EQ(Study("1.2.23.1").at(tags::kModalitiesInStudy), "CT\\MR\\SR");
  std::vector<LifecycleEvent> events;
  ASSERT_EQ(cat_->RejectInstances({{"1.2.23.1.2.1", "1.2.23.1.2", "1.2.23.1", "113001", "1.2.23.9", 0}}, {}, &events)
                .value(),
            1u);
  AttributeValues st = Study("1.2.23.1");
  EXPECT_EQ(st.at(tags::kModalitiesInStudy), "CT\\SR");
  EXPECT_EQ(st.at(tags::kNumberOfStudyRelatedSeries), "2");
  EXPECT_EQ(st.at(tags::kNumberOfStudyRelatedInstances), "3");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].new_values, R"({"instances":3,"series":2,"modalities":"CT\\SR","hidden":1,"rejected":1})");
  EXPECT_TRUE(Find(QueryLevel::kStudy, {{tags::kModalitiesInStudy, "MR"}})->empty());
  // A delete in another series recomputes from the series still counted: MR stays out.
  ASSERT_TRUE(cat_->DeleteInstances("1.2.23.1", "1.2.23.1.3", "").ok());
  st = Study("1.2.23.1");
  EXPECT_EQ(st.at(tags::kModalitiesInStudy), "CT");
  EXPECT_EQ(st.at(tags::kNumberOfStudyRelatedSeries), "1");
  // A new (not rejected) instance in the rejected series counts it again.
  Add({Make("H", "", "1.2.23.1", "1.2.23.1.2", "1.2.23.1.2.2", "MR", 5)});
  st = Study("1.2.23.1");
  EXPECT_EQ(st.at(tags::kModalitiesInStudy), "CT\\MR");
  EXPECT_EQ(st.at(tags::kNumberOfStudyRelatedSeries), "2");
  EXPECT_EQ(st.at(tags::kNumberOfStudyRelatedInstances), "3");
  EXPECT_EQ(Find(QueryLevel::kStudy, {{tags::kModalitiesInStudy, "MR"}})->size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Engines, PatientRowsTest, ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace strata
