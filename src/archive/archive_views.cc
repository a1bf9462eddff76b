// Archive operations for the network services' reads besides Read: header prefixes (see the
// contract of ReadHeaderPrefix in archive.h), single rows, statistics and the converter's
// ledger views. They keep src/net off the catalog and the stores.
#include "archive/archive.h"

#include <algorithm>

#include "util/checksum.h"
#include "util/log.h"

namespace strata {
namespace {

constexpr size_t kPreamble = 128;

// Whether PREFIX starts like the Part 10 file of SOP_UID: "DICM" after the preamble, and the
// SOP Instance UID as a whole value in it (the file meta's (0002,0003), or the data set's
// (0008,0018), both within the first bytes of any header prefix).
bool StartsAsInstance(const std::string& prefix, const std::string& sop_uid) {
  if (sop_uid.empty() || prefix.size() < kPreamble + 4 || prefix.compare(kPreamble, 4, "DICM") != 0) return false;
  for (size_t at = prefix.find(sop_uid, kPreamble + 4); at != std::string::npos; at = prefix.find(sop_uid, at + 1)) {
    // The value ends there (padded with one NUL or followed by the next tag), not inside a longer UID.
    const size_t after = at + sop_uid.size();
    const char next = after < prefix.size() ? prefix[after] : '\0';
    if (next == '\0' || next == ' ' || !(next == '.' || (next >= '0' && next <= '9'))) return true;
  }
  return false;
}

}  // namespace

Result<std::string> Archive::ReadHeaderPrefix(const InstanceRecord& record, uint64_t n, uint64_t* total) {
  const Location& loc = record.location;
  if (loc.tier == Location::Tier::kHot) {
    const std::string path = hot_->AbsolutePath(loc.hot_path);
    STRATA_ASSIGN_OR_RETURN(uint64_t size, env_->FileSize(path));
    *total = size;
    if (size != record.size)
      return Status::Corruption("hot file " + loc.hot_path + " has " + std::to_string(size) + " bytes, the catalog " +
                                std::to_string(record.size));
    if (n >= size) return Read(record);  // whole: verified against the checksum
    STRATA_ASSIGN_OR_RETURN(std::string bytes, env_->ReadFileRange(path, 0, n));
    if (bytes.size() != n) return Status::Corruption("hot file " + loc.hot_path + " is shorter than it was");
    if (!StartsAsInstance(bytes, record.sop_uid))
      return Status::Corruption("hot file " + loc.hot_path + " does not start as instance " + record.sop_uid);
    return bytes;
  }
  *total = loc.length;
  if (n >= loc.length) return Read(record);  // whole entry: verified against its checksum
  auto got = cold_->GetRange(loc.pack_key, loc.offset, n);
  Status bad = got.status();
  if (got.ok() && (got->size() != n || !StartsAsInstance(got.value(), record.sop_uid)))
    bad = Status::Corruption("pack " + loc.pack_key + " entry " + record.series_uid + "/" + record.sop_uid +
                             ".dcm does not start as that instance");
  if (bad.ok()) return std::move(got).value();
  if (replica_ && (bad.code() == Status::Code::kCorruption || bad.IsNotFound())) {
    auto copy = replica_->GetRange(loc.pack_key, loc.offset, n);
    if (copy.ok() && copy->size() == n && StartsAsInstance(copy.value(), record.sop_uid)) {
      spdlog::warn("event=read_from_replica pack={} sop={} what=header primary_error=\"{}\"", loc.pack_key,
                   record.sop_uid, bad.ToString());
      return std::move(copy).value();
    }
  }
  return bad;
}

Result<InstanceRecord> Archive::GetInstance(const std::string& sop_uid) { return catalog_->GetInstance(sop_uid); }
Result<CatalogStats> Archive::Stats() { return catalog_->Stats(); }
Result<ReplicaQueueStats> Archive::GetReplicaQueueStats() { return catalog_->GetReplicaQueueStats(); }
Result<std::vector<MigrationRecord>> Archive::ListMigrations(size_t limit) { return catalog_->ListMigrations(limit); }
Result<std::vector<PackRecord>> Archive::ListPacks(const std::string& study_uid) {
  return catalog_->ListPacks(study_uid);
}
Result<std::vector<StudySummary>> Archive::StudiesToMigrate(const MigrationPolicy& policy, int64_t now_ms) {
  return catalog_->StudiesToMigrate(policy, now_ms);
}
std::string Archive::DescribeCold() const { return cold_->Describe(); }
std::string Archive::DescribeReplica() const { return replica_ ? replica_->Describe() : std::string(); }

Result<std::vector<CorrectionRecord>> Archive::ListCorrections(const std::string& study_uid) {
  return catalog_->ListCorrections(study_uid);
}

Result<LifecycleEventPage> Archive::ListLifecycleEvents(size_t limit, size_t offset) {
  return catalog_->ListLifecycleEvents(limit, offset);
}

}  // namespace strata
