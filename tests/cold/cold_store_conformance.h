// The ColdStore contract as one test suite that every implementation runs (the local store
// always; S3 when a real endpoint is configured). A target supplies options that open a
// fresh, empty store for each test (its own directory or its own key prefix) and a cleanup.
// Instantiate with:
//   INSTANTIATE_TEST_SUITE_P(Local, ColdStoreConformance, ::testing::Values(MyTarget()),
//                            ConformanceTargetName);
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "cold/cold_store.h"

namespace strata {

struct ColdStoreTarget {
  std::string name;
  // Fills OPTIONS for a fresh store and returns true, or returns false with *WHY_SKIP.
  std::function<bool(ColdStoreOptions* options, std::string* why_skip)> fresh;
  // Removes what a test left behind (objects, pending uploads, directories).
  std::function<void(const ColdStoreOptions& options)> cleanup;
};

// Lets gtest print a target by name rather than as bytes.
inline void PrintTo(const ColdStoreTarget& t, std::ostream* os) { *os << t.name; }

std::string ConformanceTargetName(const ::testing::TestParamInfo<ColdStoreTarget>& info);

// Deterministic pseudo-random bytes (a different stream per seed).
std::string TestBytes(size_t n, uint32_t seed);

class ColdStoreConformance : public ::testing::TestWithParam<ColdStoreTarget> {
 protected:
  void SetUp() override;
  void TearDown() override;

  ColdStoreOptions options_;
  std::unique_ptr<ColdStore> store_;
  bool opened_ = false;
};

}  // namespace strata
