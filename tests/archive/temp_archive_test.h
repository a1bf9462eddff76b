// TempArchiveTest: a GoogleTest fixture holding an embedded Archive (SQLite catalog, local
// hot and cold directories) in a fresh temp directory, removed after the test. Tests of
// every layer above archive derive from it instead of opening their own.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "archive/archive.h"

namespace strata {

class TempArchiveTest : public ::testing::Test {
 protected:
  // NAME tells the temp directories of different suites apart.
  explicit TempArchiveTest(std::string name = "archive") : name_(std::move(name)) {}

  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("strata-" + name_ + "-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    ASSERT_NO_FATAL_FAILURE(OpenArchive());
  }
  void TearDown() override {
    archive_.reset();
    std::filesystem::remove_all(dir_);
  }
  void OpenArchive() {
    ArchiveOptions o;
    o.hot_dir = (dir_ / "hot").string();
    o.catalog.url = "sqlite:" + (dir_ / "c.db").string();
    o.cold.url = "file:" + (dir_ / "cold").string();
    auto a = Archive::Open(o);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    archive_ = std::move(a).value();
  }

  std::string name_;
  std::filesystem::path dir_;
  std::unique_ptr<Archive> archive_;
};

}  // namespace strata
