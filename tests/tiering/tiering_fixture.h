// Two nodes over one SQLite catalog, one hot directory and one local cold store: what the
// converter tests need to run two converters side by side (or step by step).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "archive/archive.h"
#include "tiering/tiering_options.h"

namespace strata::testing {

class TwoNodes : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Stores COUNT small images of STUDY (series SERIES) through node A; remembers their bytes.
  void StoreImages(const std::string& study, int series, int count);
  // Every stored instance reads back bit-identical through both nodes.
  void ExpectAllReadable();
  // Keys of the pack objects in the cold store, of the pack rows, and pending uploads.
  std::vector<std::string> ColdObjects();
  std::vector<std::string> PackRows();
  size_t PendingUploads();
  // Options of node NAME: no grace (the tests decide when objects are old enough).
  TieringOptions Options(const std::string& node, int64_t lease_ms = 60'000);

  std::filesystem::path dir_;
  std::unique_ptr<Archive> a_, b_;
  std::map<std::string, std::string> stored_;  // SOP Instance UID -> Part 10 bytes
  int next_instance_ = 1;
};

}  // namespace strata::testing
