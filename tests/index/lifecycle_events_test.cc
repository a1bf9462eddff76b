// Lifecycle events (schema v10) and the patient level under IOCM rejection, on every engine:
// SQLite always, PostgreSQL when STRATA_TEST_PG_URL names a server. A delete or a rejection
// records one event in its own transaction (nothing when nothing changed), named for people
// (patient, study date, description) with the study's counters before and after; a patient
// whose every study is rejected is neither counted nor listed at the patient level.
#include <gtest/gtest.h>

#include "catalog_fixture.h"
#include "index/catalog.h"

namespace strata {
namespace {

InstanceRecord Make(const std::string& patient, const std::string& study, const std::string& series,
                    const std::string& sop, int64_t number) {
  InstanceRecord r = TestInstance(patient, study, series, sop, number);
  r.study_description = "CT CHEST " + study;
  r.accession = "A" + study.substr(study.size() - 1);
  return r;
}

class LifecycleEventsTest : public CatalogFixture {
 protected:
  void SetUp() override {
    CatalogFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // Study .1: two series (3 + 1 instances); study .2 of the same patient: 2 instances;
    // study .3 of another patient: 1 instance.
    auto r = cat_->AddInstances({Make("P1", "1.2.7.1", "1.2.7.1.1", "1.2.7.1.1.1", 1),
                                 Make("P1", "1.2.7.1", "1.2.7.1.1", "1.2.7.1.1.2", 2),
                                 Make("P1", "1.2.7.1", "1.2.7.1.1", "1.2.7.1.1.3", 3),
                                 Make("P1", "1.2.7.1", "1.2.7.1.2", "1.2.7.1.2.1", 4),
                                 Make("P1", "1.2.7.2", "1.2.7.2.1", "1.2.7.2.1.1", 5),
                                 Make("P1", "1.2.7.2", "1.2.7.2.1", "1.2.7.2.1.2", 6),
                                 Make("P2", "1.2.7.3", "1.2.7.3.1", "1.2.7.3.1.1", 7)},
                                false);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  std::vector<AttributeValues> Patients(const std::string& id) {
    Query q;
    q.level = QueryLevel::kPatient;
    q.keys = {{tags::kPatientID, id},
              {tags::kNumberOfPatientRelatedStudies, ""},
              {tags::kNumberOfPatientRelatedSeries, ""},
              {tags::kNumberOfPatientRelatedInstances, ""}};
    auto r = cat_->Find(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r.value() : std::vector<AttributeValues>{};
  }
};

TEST_P(LifecycleEventsTest, DeletesAreRecordedWithWhoWhatAndValues) {
  EXPECT_TRUE(Events().empty());
  LifecycleCause cause;
  cause.who = "bearer:ann@127.0.0.1";
  auto one = cat_->DeleteInstances("1.2.7.1", "", "1.2.7.1.1.2", cause);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  const LifecycleEvent& e = one->event;
  EXPECT_GT(e.id, 0);
  EXPECT_GT(e.at_ms, 1700000000000);  // the catalog's clock, unix ms
  EXPECT_EQ(e.action, "delete");
  EXPECT_EQ(e.who, "bearer:ann@127.0.0.1");
  EXPECT_EQ(e.series_uid, "1.2.7.1.1");  // looked up for an instance delete
  EXPECT_EQ(e.sop_uid, "1.2.7.1.1.2");
  EXPECT_EQ(e.patient_name, "Doe^P1");
  EXPECT_EQ(e.study_date, "20240315");
  EXPECT_EQ(e.study_description, "CT CHEST 1.2.7.1");
  EXPECT_EQ(e.instances, 1);
  EXPECT_EQ(e.old_values, R"({"instances":4,"series":2,"modalities":"CT"})");
  EXPECT_EQ(e.new_values, R"({"instances":3,"series":2,"modalities":"CT","deleted":1})");

  // Nothing matched: no event (the failed transaction recorded nothing).
  EXPECT_TRUE(cat_->DeleteInstances("1.2.7.1", "", "1.2.7.1.1.2", cause).status().IsNotFound());
  EXPECT_EQ(Events().size(), 1u);

  LifecycleCause retention{"retention", "policy:lifecycle.retention@node-a", "rule *=3650d"};
  auto study = cat_->DeleteInstances("1.2.7.1", "", "", retention);
  ASSERT_TRUE(study.ok());
  EXPECT_EQ(study->event.action, "retention");
  EXPECT_EQ(study->event.reason, "rule *=3650d");
  EXPECT_EQ(study->event.instances, 3);
  EXPECT_EQ(study->event.new_values, R"({"instances":0,"series":0,"modalities":"","study":"deleted","deleted":3})");

  // Newest first, paged, with the total; every node reads the same table.
  auto events = Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].id, study->event.id);
  EXPECT_EQ(events[0].patient_name, "Doe^P1");  // the label survives the study row
  EXPECT_EQ(events[1].id, e.id);
  EXPECT_EQ(events[1].old_values, e.old_values);
  auto second = cat_->ListLifecycleEvents(1, 1);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->total, 2u);
  ASSERT_EQ(second->events.size(), 1u);
  EXPECT_EQ(second->events[0].id, e.id);
  EXPECT_EQ(cat_->ListLifecycleEvents(0, 0).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(cat_->ListLifecycleEvents(1001, 0).status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(cat_->ListLifecycleEvents(10, 5)->events.empty());

  // Opening the catalog again runs no step twice and keeps the events.
  cat_.reset();
  auto again = OpenCatalog({url_});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  cat_ = std::move(again).value();
  EXPECT_EQ(Events().size(), 2u);
}

TEST_P(LifecycleEventsTest, RejectionRecordsOneEventPerStudyOnce) {
  LifecycleCause cause{"reject", "dimse:CT1@10.0.0.7", "113001 Rejected for Quality Reasons (note 1.2.7.9.1)"};
  std::vector<RejectionRecord> note = {{"1.2.7.1.1.1", "1.2.7.1.1", "1.2.7.1", "113001", "1.2.7.9.1", 0},
                                       {"1.2.7.1.1.3", "1.2.7.1.1", "1.2.7.1", "113001", "1.2.7.9.1", 0},
                                       {"1.2.7.3.1.1", "1.2.7.3.1", "1.2.7.3", "113001", "1.2.7.9.1", 0}};
  std::vector<LifecycleEvent> events;
  auto n = cat_->RejectInstances(note, cause, &events);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 3u);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].study_uid, "1.2.7.1");
  EXPECT_EQ(events[0].action, "reject");
  EXPECT_EQ(events[0].who, "dimse:CT1@10.0.0.7");
  EXPECT_EQ(events[0].series_uid, "1.2.7.1.1");
  EXPECT_EQ(events[0].sop_uid, "");  // two instances
  EXPECT_EQ(events[0].instances, 2);
  EXPECT_EQ(events[0].old_values, R"({"instances":4,"series":2,"modalities":"CT"})");
  EXPECT_EQ(events[0].new_values, R"({"instances":2,"series":2,"modalities":"CT","hidden":2,"rejected":2})");
  EXPECT_EQ(events[1].study_uid, "1.2.7.3");
  EXPECT_EQ(events[1].sop_uid, "1.2.7.3.1.1");
  EXPECT_EQ(events[1].patient_name, "Doe^P2");
  // Its only series wholly rejected: the study lists no modality any more.
  EXPECT_EQ(events[1].new_values, R"({"instances":0,"series":0,"modalities":"","hidden":1,"rejected":1})");
  EXPECT_EQ(Events().size(), 2u);
  // The same note again changes nothing and records nothing.
  events.clear();
  EXPECT_EQ(cat_->RejectInstances(note, cause, &events).value(), 0u);
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(Events().size(), 2u);
}

// DeleteInstanceList (the grace-period deletion): the instances named, of the study named
// only, in one transaction with ONE event that lists their series.
TEST_P(LifecycleEventsTest, DeleteInstanceListIsOneEvent) {
  LifecycleCause cause{"rejected-expired", "policy:lifecycle.rejected_delete_after@node-a", "grace period over"};
  // Three of study .1 in two series, one twice, and one of study .3 (not this study's: left).
  auto gone = cat_->DeleteInstanceList("1.2.7.1", {"1.2.7.1.1.1", "1.2.7.1.2.1", "1.2.7.1.1.3", "1.2.7.1.1.1",
                                                   "1.2.7.3.1.1"}, cause);
  ASSERT_TRUE(gone.ok()) << gone.status().ToString();
  EXPECT_EQ(gone->instances.size(), 3u);
  const LifecycleEvent& e = gone->event;
  EXPECT_EQ(e.action, "rejected-expired");
  EXPECT_EQ(e.instances, 3);
  EXPECT_EQ(e.series_uid, "");
  EXPECT_EQ(e.sop_uid, "");
  EXPECT_EQ(e.old_values, R"({"instances":4,"series":2,"modalities":"CT","series_uids":["1.2.7.1.1","1.2.7.1.2"]})");
  EXPECT_EQ(e.new_values, R"({"instances":1,"series":1,"modalities":"CT","deleted":3})");
  EXPECT_EQ(Events().size(), 1u);
  EXPECT_TRUE(cat_->GetInstance("1.2.7.3.1.1").ok());
  EXPECT_TRUE(cat_->IsDeleted("1.2.7.1.2.1").value());
  // One instance: named as such, like an instance delete.
  auto one = cat_->DeleteInstanceList("1.2.7.1", {"1.2.7.1.1.2"}, cause);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->event.series_uid, "1.2.7.1.1");
  EXPECT_EQ(one->event.sop_uid, "1.2.7.1.1.2");
  EXPECT_EQ(one->event.new_values, R"({"instances":0,"series":0,"modalities":"","study":"deleted","deleted":1})");
  // Nothing left to delete, an empty list, a bad UID: an error and no event.
  EXPECT_TRUE(cat_->DeleteInstanceList("1.2.7.1", {"1.2.7.1.1.2"}, cause).status().IsNotFound());
  EXPECT_EQ(cat_->DeleteInstanceList("1.2.7.2", {}, cause).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(cat_->DeleteInstanceList("1.2.7.2", {"../x"}, cause).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(Events().size(), 2u);
}

// A patient whose every study is rejected counts none of them and is not listed; a patient
// with one study left counts that one (NumberOfPatientRelated* at the patient level).
TEST_P(LifecycleEventsTest, PatientLevelLeavesRejectedStudiesOut) {
  auto p1 = Patients("P1");
  ASSERT_EQ(p1.size(), 1u);
  EXPECT_EQ(p1[0].at(tags::kNumberOfPatientRelatedStudies), "2");
  EXPECT_EQ(p1[0].at(tags::kNumberOfPatientRelatedSeries), "3");
  EXPECT_EQ(p1[0].at(tags::kNumberOfPatientRelatedInstances), "6");
  // Study .2 wholly rejected, one instance of study .1 too.
  ASSERT_TRUE(cat_->RejectInstances({{"1.2.7.2.1.1", "1.2.7.2.1", "1.2.7.2", "113001", "1.2.7.9.2", 0},
                                     {"1.2.7.2.1.2", "1.2.7.2.1", "1.2.7.2", "113001", "1.2.7.9.2", 0},
                                     {"1.2.7.1.2.1", "1.2.7.1.2", "1.2.7.1", "113001", "1.2.7.9.2", 0}})
                  .ok());
  p1 = Patients("P1");
  ASSERT_EQ(p1.size(), 1u);
  EXPECT_EQ(p1[0].at(tags::kNumberOfPatientRelatedStudies), "1");
  EXPECT_EQ(p1[0].at(tags::kNumberOfPatientRelatedSeries), "1");
  EXPECT_EQ(p1[0].at(tags::kNumberOfPatientRelatedInstances), "3");
  // A later delete in the study keeps the series count of what is visible.
  ASSERT_TRUE(cat_->DeleteInstances("1.2.7.1", "", "1.2.7.1.1.1").ok());
  EXPECT_EQ(Patients("P1")[0].at(tags::kNumberOfPatientRelatedSeries), "1");
  EXPECT_EQ(Patients("P1")[0].at(tags::kNumberOfPatientRelatedInstances), "2");
  // P2's only study rejected: P2 is not listed.
  ASSERT_EQ(Patients("P2").size(), 1u);
  ASSERT_TRUE(cat_->RejectInstances({{"1.2.7.3.1.1", "1.2.7.3.1", "1.2.7.3", "113037", "1.2.7.9.3", 0}}).ok());
  EXPECT_TRUE(Patients("P2").empty());
  EXPECT_EQ(Patients("*").size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Engines, LifecycleEventsTest, ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace strata
