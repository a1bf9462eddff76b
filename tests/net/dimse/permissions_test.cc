// Per-AE DIMSE permissions and C-MOVE destination restriction (dimse_permissions.h).
#include "net/dimse/dimse_permissions.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

DimseOptions WithPermissions(const std::map<std::string, std::string>& services,
                             const std::map<std::string, std::string>& moves) {
  DimseOptions o;
  EXPECT_EQ(ParseAePermissions(services, true, &o.ae_permissions), "");
  EXPECT_EQ(ParseAePermissions(moves, false, &o.move_allowed), "");
  return o;
}

TEST(DimsePermissions, EmptySettingsAllowEverything) {
  DimseOptions o;
  EXPECT_EQ(ServiceRefusal(o, "ANY", DimseService::kStore), "");
  EXPECT_EQ(ServiceRefusal(o, "ANY", DimseService::kRetrieve), "");
  EXPECT_EQ(MoveDestinationRefusal(o, "ANY", "DEST"), "");
}

TEST(DimsePermissions, PerAeWithDefault) {
  auto o = WithPermissions({{"CT1", "store"}, {"RIS", "find | retrieve"}, {"*", "find"}}, {});
  EXPECT_EQ(ServiceRefusal(o, "CT1", DimseService::kStore), "");
  EXPECT_EQ(ServiceRefusal(o, "CT1", DimseService::kFind), "AE CT1 may not find");  // its own entry wins over *
  EXPECT_EQ(ServiceRefusal(o, "RIS", DimseService::kRetrieve), "");
  EXPECT_EQ(ServiceRefusal(o, "RIS", DimseService::kStore), "AE RIS may not store");
  EXPECT_EQ(ServiceRefusal(o, "OTHER", DimseService::kFind), "");
  EXPECT_EQ(ServiceRefusal(o, "OTHER", DimseService::kStore), "AE OTHER may not store");
}

TEST(DimsePermissions, UnlistedAeGetsNothingWithoutDefault) {
  auto o = WithPermissions({{"CT1", "store"}, {"LOCKED", ""}}, {});
  EXPECT_NE(ServiceRefusal(o, "STRANGER", DimseService::kFind), "");
  EXPECT_NE(ServiceRefusal(o, "LOCKED", DimseService::kFind), "");
}

TEST(DimsePermissions, MoveDestinations) {
  auto o = WithPermissions({}, {{"VIEWER", "WS1|WS2"}, {"PACS2", "*"}});
  EXPECT_EQ(MoveDestinationRefusal(o, "VIEWER", "WS2"), "");
  EXPECT_EQ(MoveDestinationRefusal(o, "VIEWER", "WS3"), "AE VIEWER may not move to WS3");
  EXPECT_EQ(MoveDestinationRefusal(o, "PACS2", "ANYWHERE"), "");
  EXPECT_NE(MoveDestinationRefusal(o, "NOBODY", "WS1"), "");
  // The reason fits an ErrorComment (64 characters) even for the longest AE titles.
  EXPECT_LE(MoveDestinationRefusal(o, "ABCDEFGHIJKLMNOP", "QRSTUVWXYZABCDEF").size(), 64u);
}

TEST(DimsePermissions, BadSettings) {
  std::map<std::string, std::vector<std::string>> out;
  EXPECT_NE(ParseAePermissions({{"CT1", "store|delete"}}, true, &out), "");
  EXPECT_NE(ParseAePermissions({{"THIS-AE-IS-TOO-LONG", "store"}}, true, &out), "");
  EXPECT_EQ(ParseAePermissions({{"CT1", "ANY|DEST"}}, false, &out), "");  // destinations are not services
}

}  // namespace
}  // namespace strata
