#include "archive/archive.h"

#include <chrono>
#include <deque>
#include <future>

#include "archive/group_committer.h"
#include "dicom/dataset_reader.h"
#include "util/checksum.h"
#include "util/file_util.h"
#include "util/log.h"

namespace strata {

Result<DuplicatePolicy> ParseDuplicatePolicy(const std::string& s) {
  if (s == "keep") return DuplicatePolicy::kKeep;
  if (s == "replace") return DuplicatePolicy::kReplace;
  if (s == "reject") return DuplicatePolicy::kReject;
  return Status::InvalidArgument("duplicate policy must be keep, replace or reject, not '" + s + "'");
}

Archive::Archive(ArchiveOptions options) : options_(std::move(options)) {}
Archive::~Archive() = default;

Result<std::unique_ptr<Archive>> Archive::Open(const ArchiveOptions& options, ArchiveDeps deps) {
  std::unique_ptr<Archive> a(new Archive(options));
  a->env_ = deps.env ? deps.env : Env::Default();
  a->hot_ = std::make_unique<HotStore>(a->env_, options.hot_dir, options.node_id, options.hot);
  STRATA_RETURN_IF_ERROR(a->hot_->Init());
  if (deps.catalog) {
    a->catalog_ = std::move(deps.catalog);
  } else {
    STRATA_ASSIGN_OR_RETURN(a->catalog_, OpenCatalog(options.catalog));
  }
  if (deps.cold) {
    a->cold_ = std::move(deps.cold);
  } else {
    STRATA_ASSIGN_OR_RETURN(a->cold_, OpenColdStore(options.cold));
  }
  a->committer_ = std::make_unique<GroupCommitter>(a->catalog_.get(), a->env_, options.hot_dir,
                                                   options.duplicates == DuplicatePolicy::kReplace);
  return a;
}

static int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

Result<StoreResult> Archive::StoreFile(const std::string& temp_path, const std::string& expected_sop_uid,
                                       const std::string& expected_sop_class) {
  // Whatever happens, the temp file must not outlive this call unless it was moved.
  struct TempGuard {
    std::string path;
    ~TempGuard() { if (!path.empty()) RemoveFile(path); }
  } guard{temp_path};

  StoreResult out;
  InstanceRecord& r = out.record;
  // The bytes for the checksum and the header (durability comes with the group commit).
  STRATA_ASSIGN_OR_RETURN(std::string bytes, ReadFile(temp_path));
  STRATA_RETURN_IF_ERROR(ReadInstanceAttributesFromBuffer(bytes, &r));
  if (!expected_sop_uid.empty() && expected_sop_uid != r.sop_uid)
    return Status::InvalidArgument("SOPInstanceUID " + r.sop_uid + " in the data set differs from " +
                                   expected_sop_uid + " in the request");
  if (!expected_sop_class.empty() && expected_sop_class != r.sop_class_uid)
    return Status::InvalidArgument("SOPClassUID " + r.sop_class_uid + " in the data set differs from " +
                                   expected_sop_class + " in the request");
  r.size = bytes.size();
  r.checksum = Xxh3Hex(bytes);
  r.received_ms = NowMs();

  // Fast path for re-sent data: nothing to write when the same bytes are stored already.
  auto existing = catalog_->GetInstance(r.sop_uid);
  if (existing.ok()) {
    if (existing->checksum == r.checksum) {
      out.outcome = StoreResult::Outcome::kIdentical;
      out.record = existing.value();
      return out;
    }
    if (existing->study_uid != r.study_uid || existing->series_uid != r.series_uid)
      return Status::Conflict("SOP Instance UID " + r.sop_uid + " is already stored in another study/series");
    if (options_.duplicates == DuplicatePolicy::kReject)
      return Status::Conflict("SOP Instance UID " + r.sop_uid + " is already stored with different content");
    if (options_.duplicates == DuplicatePolicy::kKeep) {
      out.outcome = StoreResult::Outcome::kDuplicateKept;
      out.warning = "SOP Instance UID " + r.sop_uid + " already stored with different content; kept the stored one";
      return out;
    }
  } else if (!existing.status().IsNotFound()) {
    return existing.status();
  }

  r.location.tier = Location::Tier::kHot;
  r.location.hot_path = HotStore::NewRelativePath(r);
  STRATA_RETURN_IF_ERROR(hot_->Place(temp_path, r.location.hot_path));
  guard.path.clear();
  auto added = committer_->Commit(r);
  if (!added.ok()) {
    // kUnknownOutcome: a catalog row may reference the file (see GroupCommitter::Commit).
    if (added.status().code() != Status::Code::kUnknownOutcome) hot_->Remove(r.location.hot_path);
    return added.status();
  }
  const AddResult& ar = added.value();
  switch (ar.outcome) {
    case AddOutcome::kAdded:
      out.outcome = StoreResult::Outcome::kStored;
      break;
    case AddOutcome::kIdentical:  // a concurrent store of the same bytes won; same path
      out.outcome = StoreResult::Outcome::kIdentical;
      if (ar.previous && ar.previous->location.hot_path != r.location.hot_path) hot_->Remove(r.location.hot_path);
      break;
    case AddOutcome::kConflict:
      out.outcome = StoreResult::Outcome::kDuplicateKept;
      out.warning = "SOP Instance UID " + r.sop_uid + " already stored with different content; kept the stored one";
      hot_->Remove(r.location.hot_path);
      if (options_.duplicates == DuplicatePolicy::kReject)
        return Status::Conflict("SOP Instance UID " + r.sop_uid + " is already stored with different content");
      break;
    case AddOutcome::kReplaced:
      out.outcome = StoreResult::Outcome::kReplaced;
      if (ar.previous && ar.previous->location.tier == Location::Tier::kHot &&
          ar.previous->location.hot_path != r.location.hot_path)
        hot_->Remove(ar.previous->location.hot_path);
      spdlog::info("event=replace sop={} old_checksum={} new_checksum={}", r.sop_uid,
                   ar.previous ? ar.previous->checksum : "", r.checksum);
      break;
  }
  return out;
}

Result<StoreResult> Archive::StoreBytes(std::string_view part10) {
  std::string temp = hot_->NewIncomingPath();
  STRATA_RETURN_IF_ERROR(WriteFileAtomic(env_, temp, part10));
  return StoreFile(temp);
}

Result<std::string> Archive::Read(const InstanceRecord& record) {
  const Location& loc = record.location;
  if (loc.tier == Location::Tier::kHot) {
    auto read = hot_->Read(loc.hot_path);
    if (!read.ok() && read.status().IsNotFound()) {
      // The converter may have packed it since RECORD was listed: ask the catalog again.
      auto now = catalog_->GetInstance(record.sop_uid);
      if (now.ok() && now->location.tier == Location::Tier::kCold) return Read(now.value());
    }
    STRATA_ASSIGN_OR_RETURN(std::string bytes, std::move(read));
    if (Xxh3Hex(bytes) != record.checksum)
      return Status::Corruption("hot file " + loc.hot_path + " does not match its checksum");
    return bytes;
  }
  STRATA_ASSIGN_OR_RETURN(std::string bytes, cold_->GetRange(loc.pack_key, loc.offset, loc.length));
  const std::string& want = loc.entry_checksum.empty() ? record.checksum : loc.entry_checksum;
  if (Xxh3Hex(bytes) != want)
    return Status::Corruption("pack " + loc.pack_key + " entry " + record.series_uid + "/" + record.sop_uid +
                              ".dcm does not match its checksum");
  return bytes;
}

Status Archive::ReadStream(const std::vector<InstanceRecord>& records,
                           const std::function<Status(const InstanceRecord&, Result<std::string>&&)>& sink) {
  const size_t ahead = static_cast<size_t>(std::max(1, options_.read_ahead));
  std::deque<std::future<Result<std::string>>> inflight;
  size_t next = 0;
  auto launch = [&] {
    const InstanceRecord* rec = &records[next++];
    // Hot reads are cheap; only cold reads are worth a thread of their own.
    if (rec->location.tier == Location::Tier::kHot)
      inflight.push_back(std::async(std::launch::deferred, [this, rec] { return Read(*rec); }));
    else
      inflight.push_back(std::async(std::launch::async, [this, rec] { return Read(*rec); }));
  };
  Status result;
  for (size_t i = 0; i < records.size(); ++i) {
    while (next < records.size() && inflight.size() < ahead) launch();
    auto r = inflight.front().get();
    inflight.pop_front();
    result = sink(records[i], std::move(r));
    if (!result.ok()) break;
  }
  for (auto& f : inflight) f.wait();  // never leave a read running against freed state
  return result;
}

}  // namespace strata
