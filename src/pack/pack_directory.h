// PackDirectory: the ZIP structure of an S-DICOM pack (docs/pack-format.md), read through
// ranged reads before anything of the manifest is parsed. Steps, each a function of
// pack_directory.cc:
//   1. ReadEndRecords: the end of central directory record (the last 22 bytes, or before a
//      comment), then the ZIP64 locator and end record when there is a locator;
//   2. CheckDirectoryExtent: the central directory ends exactly where the end records begin,
//      its entry count fits its size, it is below kMaxCentralDirectoryBytes;
//   3. ParseMembers: every central directory record in order; the manifest must be last.
// Contract: ReadPackDirectory fails (kCorruption, or the read's own error) only when the
// structure is unusable: no end records, multi-volume, a directory out of place, an undecodable
// record, no manifest as the last member. A member that is merely wrong (compressed, encrypted,
// duplicate, a bad name, out of bounds, not contiguous) is kept and named in `problems`, so
// that a reader refuses that entry alone. Every read is checked against SIZE first.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pack/pack_format.h"
#include "util/status.h"

namespace strata {

struct PackProblem {
  std::string entry;    // entry (member) name; empty for a problem of the pack as a whole
  Status::Code code = Status::Code::kCorruption;
  std::string message;  // what is wrong, without the entry name
};

// One member of the ZIP central directory.
struct PackMember {
  std::string name;
  uint64_t header_offset = 0;  // its local header
  uint64_t data_offset = 0;    // its data (0 unless in_bounds)
  uint64_t size = 0;
  uint32_t crc32 = 0;
  bool in_bounds = false;      // local header and data lie before the central directory
};

struct PackDirectory {
  bool zip64 = false;
  uint64_t cd_offset = 0;                          // where the central directory begins
  std::vector<PackMember> members;                 // directory order, the manifest excluded
  std::unordered_map<std::string, size_t> by_name; // member name -> index in members (first)
  PackMember manifest;                             // the last member, in bounds
  std::vector<PackProblem> problems;               // member problems, in directory order
};

inline constexpr uint64_t kMaxCentralDirectoryBytes = 1ull << 30;

// Returns exactly LENGTH bytes at OFFSET, or an error (PackReader's bounded read).
using PackRangeRead = std::function<Result<std::string>(uint64_t offset, uint64_t length)>;

// Steps 1-3 above on a pack of SIZE bytes.
Result<PackDirectory> ReadPackDirectory(const PackRangeRead& read, uint64_t size);

// HEADER_BYTES (the member's local header, as read) agrees with the directory's record M:
// same name, stored, no unsupported flags, same CRC-32 and sizes, and it ends where M's data
// begins. kCorruption saying what differs otherwise.
[[nodiscard]] Status CheckLocalHeader(const PackMember& m, std::string_view header_bytes);

// "0x1234abcd", as CRC-32s appear in messages.
inline std::string Hex32(uint32_t v) { return "0x" + HexU32(v); }

}  // namespace strata
