#include "transfer/dicom_file_scan.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <system_error>

#include "model/uid.h"

namespace strata {
namespace {

namespace fs = std::filesystem;

std::string Get(DcmItem* item, const DcmTagKey& tag) {
  OFString v;
  if (item && item->findAndGetOFString(tag, v).good()) return TrimUid(v.c_str());
  return "";
}

}  // namespace

Result<DicomFileInfo> ProbeDicomFile(const std::string& path) {
  DicomFileInfo info;
  info.path = path;
  std::error_code ec;
  info.size = fs::file_size(path, ec);
  if (ec) return Status::IOError("unreadable: " + ec.message());
  DcmFileFormat ff;
  // Everything up to (0008,0020) Study Date: the meta header and the SOP Class / Instance
  // UIDs. Big elements are not loaded.
  OFCondition c = ff.loadFileUntilTag(path.c_str(), EXS_Unknown, EGL_noChange, 4096, ERM_autoDetect, DCM_StudyDate);
  if (c.bad()) return Status::InvalidArgument(std::string("not DICOM: ") + c.text());
  DcmMetaInfo* meta = ff.getMetaInfo();
  DcmDataset* ds = ff.getDataset();
  info.sop_class_uid = Get(ds, DCM_SOPClassUID);
  if (info.sop_class_uid.empty()) info.sop_class_uid = Get(meta, DCM_MediaStorageSOPClassUID);
  info.sop_instance_uid = Get(ds, DCM_SOPInstanceUID);
  if (info.sop_instance_uid.empty()) info.sop_instance_uid = Get(meta, DCM_MediaStorageSOPInstanceUID);
  info.transfer_syntax = Get(meta, DCM_TransferSyntaxUID);
  if (info.transfer_syntax.empty() && ds) {
    DcmXfer x(ds->getOriginalXfer());
    if (x.getXfer() != EXS_Unknown) info.transfer_syntax = x.getXferID();
  }
  if (info.sop_class_uid.empty() && info.sop_instance_uid.empty())
    return Status::InvalidArgument("not DICOM: no SOP Class / SOP Instance UID");
  if (info.sop_class_uid == UID_MediaStorageDirectoryStorage) return Status::InvalidArgument("DICOMDIR");
  if (Status s = ValidateUid(info.sop_class_uid, "SOP Class UID"); !s.ok())
    return Status::InvalidArgument("not DICOM: " + s.message());
  if (Status s = ValidateUid(info.sop_instance_uid, "SOP Instance UID"); !s.ok())
    return Status::InvalidArgument("not DICOM: " + s.message());
  if (Status s = ValidateUid(info.transfer_syntax, "Transfer Syntax UID"); !s.ok())
    return Status::InvalidArgument("unreadable: " + s.message());
  return info;
}

Result<ScanResult> ScanForDicomFiles(const std::vector<std::string>& paths) {
  std::vector<std::string> candidates;
  for (const auto& p : paths) {
    std::error_code ec;
    auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) return Status::NotFound("no such file or directory: " + p);
    if (fs::is_directory(st)) {
      fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec), end;
      if (ec) return Status::IOError("cannot list " + p + ": " + ec.message());
      for (; it != end; it.increment(ec)) {
        if (ec) return Status::IOError("cannot list " + p + ": " + ec.message());
        std::error_code e2;
        if (it->is_regular_file(e2)) candidates.push_back(it->path().string());
      }
    } else if (fs::is_regular_file(st)) {
      candidates.push_back(p);
    } else {
      return Status::InvalidArgument("not a regular file or directory: " + p);
    }
  }
  // Each file once, even when named twice (a file and its directory, say).
  std::set<std::string> seen;
  std::vector<std::string> unique;
  for (auto& c : candidates) {
    std::error_code ec;
    std::string key = fs::weakly_canonical(c, ec).string();
    if (ec) key = c;
    if (seen.insert(key).second) unique.push_back(std::move(c));
  }
  std::sort(unique.begin(), unique.end());
  ScanResult out;
  for (const auto& path : unique) {
    auto info = ProbeDicomFile(path);
    if (!info.ok()) {
      out.skipped.push_back({path, info.status().message()});
      continue;
    }
    out.bytes += info->size;
    out.files.push_back(std::move(info).value());
  }
  return out;
}

}  // namespace strata
