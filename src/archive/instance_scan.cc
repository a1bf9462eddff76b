#include "archive/instance_scan.h"

#include "dicom/dataset_reader.h"
#include "dicom/pixel_encoding.h"
#include "model/uid.h"

namespace strata {
namespace {

// DCMTK parses the bytes before Pixel Data from memory up to this size; a larger prefix
// (huge private elements, a deflated data set) is parsed from the file with values left on
// disk. Either way DCMTK only sees a data set the scan proved well-formed and shallow.
constexpr uint64_t kMaxPrefixInMemory = 64ull << 20;

const char* UidName(uint32_t tag) {
  switch (tag) {
    case 0x00080016u: return "SOPClassUID";
    case 0x00080018u: return "SOPInstanceUID";
    case 0x0020000Du: return "StudyInstanceUID";
    default: return "SeriesInstanceUID";
  }
}

}  // namespace

Status ScanInstanceFile(Env* env, const std::string& path, DatasetScan* scan, InstanceRecord* r) {
  STRATA_ASSIGN_OR_RETURN(*scan, ScanPart10(env, path));
  if (scan->pixel_data_offset <= kMaxPrefixInMemory) {
    STRATA_ASSIGN_OR_RETURN(std::string prefix, env->ReadFileRange(path, 0, scan->pixel_data_offset));
    STRATA_RETURN_IF_ERROR(ReadInstanceAttributesFromBuffer(prefix, r));
  } else {
    STRATA_RETURN_IF_ERROR(ReadInstanceAttributes(path, r));
  }
  // DCMTK drops inner spaces from UIDs: check the values as they are in the file.
  for (const auto& [tag, raw] : scan->identity_uids)
    STRATA_RETURN_IF_ERROR(ValidateUid(TrimUid(raw), UidName(tag)));
  if (scan->transfer_syntax != r->transfer_syntax)
    return Status::InvalidArgument("TransferSyntaxUID " + scan->transfer_syntax + " could not be read consistently");
  STRATA_RETURN_IF_ERROR(CheckPixelEncoding(scan->transfer_syntax, scan->pixel));
  r->size = scan->file_size;
  r->checksum = scan->file_checksum;
  r->dataset_checksum = scan->dataset_checksum;
  return Status::OK();
}

}  // namespace strata
