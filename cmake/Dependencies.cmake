# Every dependency is a Debian package; docs/architecture.md says why each one earns its place.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(DCMTK REQUIRED CONFIG)
find_package(SQLite3 REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(CLI11 REQUIRED)
find_package(GTest REQUIRED)
find_package(CURL REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(ZLIB REQUIRED)  # gzip of DICOM JSON answers (net/web/response_encoding.cc)
find_package(PostgreSQL REQUIRED)  # libpq: the PostgreSQL catalog driver is always built
find_package(toml11 REQUIRED)  # TOML config files (header-only; Debian ships its CMake package)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)

# Helper: strata_test(NAME SOURCES... LIBS ... [LOCK resource]) builds a GoogleTest binary
# registered with CTest. LOCK serialises tests that share an outside resource (the test
# PostgreSQL database) under `ctest -j`.
function(strata_test name)
  cmake_parse_arguments(T "" "LOCK" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main)
  if(T_LOCK)
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit RESOURCE_LOCK ${T_LOCK})
  else()
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit)
  endif()
endfunction()
