#include "transfer/store_request.h"

#include <gtest/gtest.h>

#include <cstring>

namespace strata {
namespace {

TEST(StoreRequest, FillsUidsPriorityAndTakesTheNextMessageId) {
  T_ASC_Association assoc;
  std::memset(&assoc, 0, sizeof(assoc));
  assoc.nextMsgID = 41;
  const T_DIMSE_C_StoreRQ a = MakeStoreRequest(&assoc, "1.2.840.10008.5.1.4.1.1.2", "1.2.3.4");
  const T_DIMSE_C_StoreRQ b = MakeStoreRequest(&assoc, "1.2.840.10008.5.1.4.1.1.4", "1.2.3.5");
  EXPECT_EQ(a.MessageID, 41);
  EXPECT_EQ(b.MessageID, 42);
  EXPECT_EQ(assoc.nextMsgID, 43);
  EXPECT_STREQ(a.AffectedSOPClassUID, "1.2.840.10008.5.1.4.1.1.2");
  EXPECT_STREQ(a.AffectedSOPInstanceUID, "1.2.3.4");
  EXPECT_STREQ(b.AffectedSOPClassUID, "1.2.840.10008.5.1.4.1.1.4");
  EXPECT_EQ(a.DataSetType, DIMSE_DATASET_PRESENT);
  EXPECT_EQ(a.Priority, DIMSE_PRIORITY_MEDIUM);
  // Not a C-MOVE sub-operation: no Move Originator attributes.
  EXPECT_EQ(a.opts & (O_STORE_MOVEORIGINATORAETITLE | O_STORE_MOVEORIGINATORID), 0);
  EXPECT_STREQ(a.MoveOriginatorApplicationEntityTitle, "");
}

TEST(StoreRequest, CarriesTheMoveOriginator) {
  T_ASC_Association assoc;
  std::memset(&assoc, 0, sizeof(assoc));
  assoc.nextMsgID = 1;
  const T_DIMSE_C_StoreRQ r = MakeStoreRequest(&assoc, "1.2.840.10008.5.1.4.1.1.2", "1.2.3.4", {"VIEWER", 77});
  EXPECT_EQ(r.opts & O_STORE_MOVEORIGINATORAETITLE, O_STORE_MOVEORIGINATORAETITLE);
  EXPECT_EQ(r.opts & O_STORE_MOVEORIGINATORID, O_STORE_MOVEORIGINATORID);
  EXPECT_STREQ(r.MoveOriginatorApplicationEntityTitle, "VIEWER");
  EXPECT_EQ(r.MoveOriginatorID, 77);
}

TEST(StoreRequest, CutsOverlongUidsToTheField) {
  T_ASC_Association assoc;
  std::memset(&assoc, 0, sizeof(assoc));
  const std::string long_uid(100, '1');
  const T_DIMSE_C_StoreRQ r = MakeStoreRequest(&assoc, long_uid, long_uid);
  EXPECT_EQ(std::strlen(r.AffectedSOPInstanceUID), sizeof(r.AffectedSOPInstanceUID) - 1);
}

}  // namespace
}  // namespace strata
