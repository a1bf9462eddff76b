#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <gtest/gtest.h>

#include "net/dimse/find_handler.h"

namespace strata {
namespace {

Result<RetrieveKeys> Keys(const char* level, const char* pid, const char* study = nullptr) {
  DcmDataset ds;
  ds.putAndInsertString(DCM_QueryRetrieveLevel, level);
  if (pid) ds.putAndInsertString(DCM_PatientID, pid);
  if (study) ds.putAndInsertString(DCM_StudyInstanceUID, study);
  return IdentifierToRetrieveKeys(&ds, QueryRoot::kPatient);
}

TEST(RetrieveKeys, WildcardsAndListsInPatientIdRefused) {
  for (const char* bad : {"*", "PAT*", "PAT?1", "A\\B"}) {
    auto k = Keys("PATIENT", bad);
    EXPECT_FALSE(k.ok()) << bad;
    if (!k.ok()) {
      EXPECT_EQ(k.status().code(), Status::Code::kInvalidArgument);
    }
  }
  auto ok = Keys("PATIENT", "PAT-0001");  // '-' is an ordinary character in an LO
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->patient_id, "PAT-0001");
}

TEST(RetrieveKeys, UidWildcardsAndRangesRefused) {
  EXPECT_FALSE(Keys("STUDY", nullptr, "1.2.*").ok());
  EXPECT_FALSE(Keys("STUDY", nullptr, "1.2-1.3").ok());
  auto list = Keys("STUDY", nullptr, "1.2.3\\1.2.4");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->study_uids.size(), 2u);
}

}  // namespace
}  // namespace strata
