#include "pack/pack_writer.h"
#include "model/uid.h"

#include <utility>

#include "util/checksum.h"

namespace strata {

namespace {
constexpr size_t kPreambleSize = 128;
constexpr std::string_view kDicmMagic = "DICM";
}  // namespace

PackWriter::PackWriter(Sink sink, PackWriterOptions options)
    : sink_(std::move(sink)), options_(std::move(options)) {
  zip::DosDateTime(options_.modified_time.value_or(0), &dos_date_, &dos_time_);
}

Status PackWriter::CheckUsable() const {
  if (!failed_.ok()) return failed_;
  if (finished_) return Status::InvalidArgument("pack writer: Finish() was already called");
  return Status::OK();
}

Status PackWriter::Emit(std::string_view bytes) {
  Status st = sink_(bytes);
  if (!st.ok()) {
    failed_ = st.WithContext("pack writer sink");
    return failed_;
  }
  offset_ += bytes.size();
  return Status::OK();
}

zip::StoredFile PackWriter::MakeFile(std::string name, uint32_t crc, uint64_t size) const {
  zip::StoredFile f;
  f.name = std::move(name);
  f.crc32 = crc;
  f.size = size;
  f.local_header_offset = offset_;
  f.dos_date = dos_date_;
  f.dos_time = dos_time_;
  f.zip64_sizes = options_.force_zip64 || zip::NeedsZip64(size);
  f.zip64_offset = options_.force_zip64 || zip::NeedsZip64(offset_);
  return f;
}

Result<PackEntry> PackWriter::AddEntry(const PackEntryInfo& info, std::string_view data) {
  STRATA_RETURN_IF_ERROR(CheckUsable());
  STRATA_RETURN_IF_ERROR(ValidateUid(info.series_instance_uid, "SeriesInstanceUID"));
  STRATA_RETURN_IF_ERROR(ValidateUid(info.sop_instance_uid, "SOPInstanceUID"));
  STRATA_RETURN_IF_ERROR(ValidateUid(info.sop_class_uid, "SOPClassUID"));
  STRATA_RETURN_IF_ERROR(ValidateUid(info.transfer_syntax, "TransferSyntaxUID"));
  if (!info.original_transfer_syntax.empty())
    STRATA_RETURN_IF_ERROR(
        ValidateUid(info.original_transfer_syntax, "original TransferSyntaxUID"));
  uint64_t unused = 0;
  if (!info.dataset_xxh3.empty() && (info.dataset_xxh3.size() != 16 || !ParseHexU64(info.dataset_xxh3, &unused)))
    return Status::InvalidArgument("pack entry data set checksum '" + info.dataset_xxh3.substr(0, 40) +
                                   "' is not 16 hex digits");
  if (info.received_ms < 0) return Status::InvalidArgument("pack entry received time is negative");
  std::string name = PackEntryName(info.series_instance_uid, info.sop_instance_uid);
  if (data.size() < kPreambleSize + kDicmMagic.size() ||
      data.substr(kPreambleSize, kDicmMagic.size()) != kDicmMagic)
    return Status::InvalidArgument("pack entry " + name +
                                   ": data is not a DICOM Part 10 file (no DICM after the preamble)");
  if (names_.count(name)) return Status::InvalidArgument("pack entry " + name + " added twice");
  if (sops_.count(info.sop_instance_uid))
    return Status::InvalidArgument("pack entry " + name + ": SOPInstanceUID " +
                                   info.sop_instance_uid + " is already in the pack");

  PackEntry e;
  e.name = name;
  e.series_instance_uid = info.series_instance_uid;
  e.sop_instance_uid = info.sop_instance_uid;
  e.sop_class_uid = info.sop_class_uid;
  e.transfer_syntax = info.transfer_syntax;
  e.original_transfer_syntax =
      info.original_transfer_syntax.empty() ? info.transfer_syntax : info.original_transfer_syntax;
  e.length = data.size();
  e.crc32 = Crc32(data);
  e.xxh3 = Xxh3(data);
  e.original_size = info.original_size.value_or(e.length);
  e.original_xxh3 = info.original_xxh3.value_or(e.xxh3);
  e.lossless_verified = info.lossless_verified;
  e.received_ms = info.received_ms;
  e.dataset_xxh3 = info.dataset_xxh3;

  zip::StoredFile f = MakeFile(name, e.crc32, e.length);
  std::string header = zip::EncodeLocalHeader(f);
  e.offset = offset_ + header.size();
  STRATA_RETURN_IF_ERROR(Emit(header));
  STRATA_RETURN_IF_ERROR(Emit(data));

  names_.insert(name);
  sops_.insert(info.sop_instance_uid);
  files_.push_back(std::move(f));
  entries_.push_back(e);
  return e;
}

Result<PackSummary> PackWriter::Finish(const nlohmann::json& study_metadata) {
  STRATA_RETURN_IF_ERROR(CheckUsable());
  if (entries_.empty()) return Status::InvalidArgument("pack writer: no entries were added");
  STRATA_ASSIGN_OR_RETURN(std::string manifest, EncodeManifest(study_metadata, entries_));

  PackSummary summary;
  summary.manifest_crc32 = Crc32(manifest);
  summary.manifest_xxh3 = Xxh3(manifest);
  summary.manifest_length = manifest.size();
  zip::StoredFile mf = MakeFile(std::string(kPackManifestName), summary.manifest_crc32,
                                manifest.size());
  std::string header = zip::EncodeLocalHeader(mf);
  summary.manifest_offset = offset_ + header.size();
  STRATA_RETURN_IF_ERROR(Emit(header));
  STRATA_RETURN_IF_ERROR(Emit(manifest));
  files_.push_back(std::move(mf));

  zip::EndRecordsInfo end;
  end.cd_offset = offset_;
  end.entries = files_.size();
  end.force_zip64 = options_.force_zip64;
  std::string cd;
  for (const zip::StoredFile& f : files_) {
    cd += zip::EncodeCentralHeader(f);
    if (cd.size() >= (1u << 20)) {  // keep the buffer bounded for very large packs
      end.cd_size += cd.size();
      STRATA_RETURN_IF_ERROR(Emit(cd));
      cd.clear();
    }
  }
  end.cd_size += cd.size();
  cd += zip::EncodeEndRecords(end);
  STRATA_RETURN_IF_ERROR(Emit(cd));

  finished_ = true;
  summary.entries = entries_;
  summary.total_size = offset_;
  summary.zip64 = zip::EndNeedsZip64(end);
  return summary;
}

}  // namespace strata
