// PackReader: opens an S-DICOM pack (docs/pack-format.md) through ranged reads and returns
// verified entry bytes.
// Contract: Open fails only when the pack is structurally unusable (no end records, a bad
// central directory, a missing or corrupt manifest); entry-level inconsistencies are recorded,
// those entries are refused by ReadEntry (Corruption) and listed by Verify. Nothing returned
// by ReadEntry/ReadVerified has failed a check: a CRC-32 or XXH3 mismatch is Corruption naming
// the pack entry. Every allocation is bounded by a size first checked against the pack size.
// A PackReader is immutable after Open; its const methods may run on several threads at once
// if the source allows it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "pack/pack_directory.h"  // PackProblem, PackMember
#include "pack/pack_format.h"
#include "util/status.h"

namespace strata {

// Random access to a pack: returns exactly LENGTH bytes at OFFSET (or an error).
using PackSource = std::function<Result<std::string>(uint64_t offset, uint64_t length)>;

struct PackVerifyReport {
  std::string pack;               // the reader's label
  uint64_t entries_checked = 0;   // entries whose bytes were read
  uint64_t entries_ok = 0;
  uint64_t bytes_checked = 0;     // data bytes hashed (entries + manifest)
  std::vector<PackProblem> problems;  // every problem found, in pack order
  bool ok() const { return problems.empty(); }
  // OK, or a Status naming every bad entry: Corruption, unless every problem is an I/O error.
  Status ToStatus() const;
};

class PackReader {
 public:
  // Reads the ZIP structure (pack_directory.h), then the manifest, then checks the two
  // against each other (see Load). SIZE is the pack's size in bytes; LABEL (a path or object
  // key) prefixes error messages.
  static Result<PackReader> Open(PackSource source, uint64_t size, std::string label = "");

  const PackManifest& manifest() const { return manifest_; }
  const std::vector<PackEntry>& entries() const { return manifest_.entries; }
  const nlohmann::json& study() const { return manifest_.study; }
  const std::string& label() const { return label_; }
  uint64_t size() const { return size_; }
  bool zip64() const { return zip64_; }
  uint64_t manifest_offset() const { return manifest_offset_; }
  uint64_t manifest_length() const { return manifest_length_; }
  uint64_t manifest_xxh3() const { return manifest_xxh3_; }
  // Entry-level problems found by Open (Verify reports them too).
  const std::vector<PackProblem>& problems() const { return problems_; }

  // The entry named NAME ("<series>/<sop>.dcm") or with SOP Instance UID KEY; null if none.
  const PackEntry* Find(std::string_view key) const;
  // The entry's bytes, read in one ranged read (local header + data) and checked: local header
  // against the directory, CRC-32, XXH3. NotFound if no such entry.
  Result<std::string> ReadEntry(std::string_view key) const;
  // The manifest's bytes as stored (strata-manifest.json), XXH3-checked against Open's read.
  Result<std::string> ReadManifest() const;
  // Reads every entry in large sequential windows and checks it as ReadEntry does; adds the
  // problems found by Open. Never stops at the first bad entry.
  PackVerifyReport Verify() const;

  // Checks bytes read for one entry: the length and the XXH3 the catalog recorded. WHAT names
  // the pack entry in the Corruption message.
  static Status VerifyEntryData(std::string_view data, uint64_t expected_length,
                                uint64_t expected_xxh3, std::string_view what);
  // One ranged read of an entry's data at (OFFSET, LENGTH) from the catalog, then
  // VerifyEntryData. This is what the archive does to serve one image from a pack.
  static Result<std::string> ReadVerified(const PackSource& source, uint64_t offset,
                                          uint64_t length, uint64_t expected_xxh3,
                                          std::string_view what);

 private:
  using Member = PackMember;

  PackReader(PackSource source, uint64_t size, std::string label);
  // Open's steps: ReadPackDirectory, LoadManifest, CrossCheckManifest.
  Status Load();
  // The manifest member M (the directory's last): local header and data in one read, the
  // header checked, the data's CRC-32 checked, then decoded into manifest_. Any failure is
  // one of the whole pack.
  Status LoadManifest(const Member& m);
  // Manifest against directory, entry by entry (CheckManifestEntry), then the members the
  // manifest does not list. Records problems only; never fails. BY_NAME: member name ->
  // index in members_.
  void CrossCheckManifest(const std::unordered_map<std::string, size_t>& by_name);
  // Manifest entry I: its name and UIDs, unique name and SOP UID, a member of that name
  // whose offset, length and CRC-32 are the manifest's. Sets member_of_entry_[I] and
  // *LISTED for the member found.
  void CheckManifestEntry(size_t i, const std::unordered_map<std::string, size_t>& by_name,
                          std::vector<bool>* listed);
  // Exactly LENGTH bytes at OFFSET; a range past SIZE is kCorruption, a short answer kIOError.
  Result<std::string> ReadExact(uint64_t offset, uint64_t length) const;
  void AddProblem(const std::string& entry, const std::string& message,
                  Status::Code code = Status::Code::kCorruption);
  std::string EntryLabel(std::string_view name) const;

  PackSource source_;
  uint64_t size_ = 0;
  std::string label_;
  bool zip64_ = false;
  uint64_t cd_offset_ = 0;
  uint64_t manifest_offset_ = 0;
  uint64_t manifest_length_ = 0;
  uint64_t manifest_xxh3_ = 0;
  PackManifest manifest_;
  std::vector<Member> members_;             // central directory order, manifest excluded
  std::vector<int64_t> member_of_entry_;    // manifest index -> members_ index, or -1
  std::unordered_map<std::string, size_t> by_name_;  // -> manifest index (first occurrence)
  std::unordered_map<std::string, size_t> by_sop_;   // -> manifest index (first occurrence)
  std::unordered_map<std::string, std::string> entry_problem_;  // name -> first problem
  std::vector<PackProblem> problems_;
};

// Opens a pack file on the local filesystem (pread on one descriptor; the label is PATH).
Result<PackReader> OpenPackFile(const std::string& path);

}  // namespace strata
