#include "net/dimse/admission.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

DimseOptions Small() {
  DimseOptions o;
  o.max_associations = 6;
  o.reserved_query_slots = 2;
  o.max_associations_per_peer = 3;
  o.max_associations_per_ae = 2;
  o.max_pending = 4;
  o.max_pending_per_peer = 2;
  return o;
}

TEST(Admission, PendingBoundedOverallAndPerPeer) {
  Admission a(Small());
  EXPECT_TRUE(a.AdmitConnection("10.0.0.1"));
  EXPECT_TRUE(a.AdmitConnection("10.0.0.1"));
  EXPECT_FALSE(a.AdmitConnection("10.0.0.1"));  // per peer
  EXPECT_TRUE(a.AdmitConnection("10.0.0.2"));
  EXPECT_TRUE(a.AdmitConnection("10.0.0.3"));
  EXPECT_FALSE(a.AdmitConnection("10.0.0.4"));  // overall
  a.ConnectionDone("10.0.0.1");
  EXPECT_TRUE(a.AdmitConnection("10.0.0.4"));
}

TEST(Admission, StorageCannotTakeTheKeptSlots) {
  Admission a(Small());
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(a.AdmitAssociation("10.0.0." + std::to_string(i), "MOD" + std::to_string(i), false), "");
  EXPECT_NE(a.AdmitAssociation("10.0.0.9", "MOD9", false), "");  // only query slots left
  EXPECT_EQ(a.AdmitAssociation("10.0.0.9", "RIS", true), "");
  EXPECT_EQ(a.AdmitAssociation("10.0.0.8", "RIS2", true), "");
  EXPECT_NE(a.AdmitAssociation("10.0.0.7", "RIS3", true), "");  // all six taken
  a.AssociationDone("10.0.0.0", "MOD0", false);
  EXPECT_EQ(a.AdmitAssociation("10.0.0.0", "MOD0", false), "");
  EXPECT_EQ(a.associations(), 6);
}

TEST(Admission, PerPeerAndPerAe) {
  DimseOptions o = Small();
  o.max_associations = 20;
  Admission a(o);
  EXPECT_EQ(a.AdmitAssociation("10.0.0.1", "A", false), "");
  EXPECT_EQ(a.AdmitAssociation("10.0.0.1", "B", false), "");
  EXPECT_EQ(a.AdmitAssociation("10.0.0.1", "C", false), "");
  EXPECT_NE(a.AdmitAssociation("10.0.0.1", "D", false).find("from 10.0.0.1"), std::string::npos);
  EXPECT_EQ(a.AdmitAssociation("10.0.0.2", "A", false), "");
  EXPECT_NE(a.AdmitAssociation("10.0.0.3", "A", false).find("AE 'A'"), std::string::npos);
  a.AssociationDone("10.0.0.2", "A", false);
  EXPECT_EQ(a.AdmitAssociation("10.0.0.3", "A", false), "");
}

}  // namespace
}  // namespace strata
