#include "testdata/sample_reuid.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include "testdata/rng.h"
#include "testdata/uid_scheme.h"
#include "util/file_util.h"

namespace strata::testdata {
namespace {

namespace fs = std::filesystem;

// UID type codes under the root for re-identified samples (the generator uses 11..54).
constexpr uint64_t kSampleStudy = 91, kSampleSeries = 92, kSampleInstance = 93;
constexpr uint64_t kVariantImplicit = 2, kVariantDeflated = 3;
constexpr uint64_t kHashModulus = 10000000000000000ull;  // 16 decimal digits keep UIDs short

struct Candidate {
  size_t input_index;
  std::string rel;   // path relative to its input (the file name for a file input)
  std::string path;  // as opened
  std::string key;   // rel, made unique if two inputs hold the same relative path
};

enum class Sniff { kPart10, kBareDataset, kNotDicom };

Sniff SniffFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Sniff::kNotDicom;
  unsigned char head[132];
  size_t n = std::fread(head, 1, sizeof head, f);
  std::fclose(f);
  if (n == sizeof head && std::memcmp(head + 128, "DICM", 4) == 0) return Sniff::kPart10;
  if (n < 8) return Sniff::kNotDicom;
  // A dataset without preamble starts with a group 0002 or 0008 element (either endianness).
  uint16_t le = static_cast<uint16_t>(head[0] | (head[1] << 8));
  uint16_t be = static_cast<uint16_t>((head[0] << 8) | head[1]);
  if (le == 0x0002 || le == 0x0008 || be == 0x0008) return Sniff::kBareDataset;
  return Sniff::kNotDicom;
}

std::string GetString(DcmItem* item, const DcmTagKey& tag) {
  OFString v;
  if (item->findAndGetOFStringArray(tag, v).good()) {
    std::string s(v.c_str());
    while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
    return s;
  }
  return {};
}

bool HasPixelData(DcmDataset* ds) {
  DcmElement* e = nullptr;
  if (ds->findAndGetElement(DCM_PixelData, e).bad() || e == nullptr) return false;
  return !e->isEmpty();
}

Status Save(DcmFileFormat& ff, const std::string& path, E_TransferSyntax xfer, uint64_t* size) {
  STRATA_RETURN_IF_ERROR(MakeDirs(DirName(path)));
  const std::string tmp = path + ".tmp";
  OFCondition c = ff.saveFile(tmp.c_str(), xfer, EET_ExplicitLength, EGL_recalcGL, EPD_noChange,
                              0, 0, EWM_updateMeta);
  if (c.bad()) {
    std::remove(tmp.c_str());
    return Status::IOError("write " + path + ": " + c.text());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    return Status::IOError("rename " + tmp + ": " + ec.message());
  }
  *size = fs::file_size(path, ec);
  if (ec) return Status::IOError("size of " + path + ": " + ec.message());
  return Status::OK();
}

}  // namespace

Result<ReUidReport> ReUidSamples(const ReUidOptions& opt) {
  const std::string root = opt.uid_root.empty() ? std::string(kDefaultUidRoot) : opt.uid_root;
  STRATA_RETURN_IF_ERROR(ValidateUidRoot(root));
  if (opt.out_dir.empty()) return Status::InvalidArgument("no output directory");
  if (opt.inputs.empty()) return Status::InvalidArgument("no input files or directories");

  // Collect the candidate files in a deterministic order.
  std::vector<Candidate> files;
  for (size_t i = 0; i < opt.inputs.size(); ++i) {
    const fs::path in(opt.inputs[i]);
    std::error_code ec;
    if (fs::is_regular_file(in, ec)) {
      files.push_back({i, in.filename().string(), in.string(), {}});
    } else if (fs::is_directory(in, ec)) {
      std::vector<Candidate> found;
      for (auto it = fs::recursive_directory_iterator(in, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file(ec)) {
          found.push_back({i, fs::relative(it->path(), in, ec).generic_string(), it->path().string(), {}});
        }
      }
      if (ec) return Status::IOError("scan " + opt.inputs[i] + ": " + ec.message());
      std::sort(found.begin(), found.end(),
                [](const Candidate& a, const Candidate& b) { return a.rel < b.rel; });
      files.insert(files.end(), found.begin(), found.end());
    } else {
      return Status::NotFound("input " + opt.inputs[i] + " is neither a file nor a directory");
    }
  }
  std::map<std::string, int> seen;
  for (auto& f : files) {
    int n = seen[f.rel]++;
    f.key = n == 0 ? f.rel : f.rel + "#" + std::to_string(n);
  }

  STRATA_RETURN_IF_ERROR(MakeDirs(opt.out_dir));
  ReUidReport report;
  std::set<std::string> used_sop_uids;
  auto hash_of = [&](const std::string& s) { return HashKey({opt.seed, HashBytes(s)}) % kHashModulus; };
  auto skip = [&](const Candidate& f, uint64_t* counter, const std::string& why) {
    ++*counter;
    report.skipped.emplace_back(f.path, why);
  };

  for (const Candidate& f : files) {
    ++report.scanned;
    const Sniff sniff = SniffFile(f.path);
    if (sniff == Sniff::kNotDicom) {
      skip(f, &report.skipped_not_dicom, "no DICOM signature");
      continue;
    }
    DcmFileFormat ff;
    OFCondition c = ff.loadFile(f.path.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength,
                                sniff == Sniff::kPart10 ? ERM_fileOnly : ERM_autoDetect);
    if (c.bad()) {
      skip(f, &report.skipped_not_dicom, std::string("unreadable: ") + c.text());
      continue;
    }
    DcmDataset* ds = ff.getDataset();
    const std::string sop_class = GetString(ds, DCM_SOPClassUID);
    if (sop_class.empty()) {
      skip(f, &report.skipped_no_sop_class, "no SOP Class UID");
      continue;
    }
    if (!HasPixelData(ds)) {
      skip(f, &report.skipped_no_pixel_data, "no pixel data");
      continue;
    }
    const E_TransferSyntax xfer = ds->getOriginalXfer();
    const DcmXfer xinfo(xfer);

    const uint64_t file_hash = hash_of("file:" + f.key);
    uint64_t study_hash = file_hash, series_hash = file_hash;
    if (opt.keep_grouping) {
      const std::string study = GetString(ds, DCM_StudyInstanceUID);
      const std::string series = GetString(ds, DCM_SeriesInstanceUID);
      if (!study.empty()) study_hash = hash_of("study:" + study);
      if (!series.empty()) series_hash = hash_of("series:" + study + "/" + series);
    }
    STRATA_ASSIGN_OR_RETURN(std::string study_uid, MakeUid(root, {kSampleStudy, opt.seed, study_hash}));
    STRATA_ASSIGN_OR_RETURN(std::string series_uid, MakeUid(root, {kSampleSeries, opt.seed, series_hash}));
    STRATA_ASSIGN_OR_RETURN(std::string sop_uid, MakeUid(root, {kSampleInstance, opt.seed, file_hash}));
    if (!used_sop_uids.insert(sop_uid).second) {
      return Status::Internal("SOP Instance UID collision for " + f.path);
    }
    const std::string original_sop = GetString(ds, DCM_SOPInstanceUID);

    auto write = [&](const std::string& sop, E_TransferSyntax out_xfer, bool variant) -> Status {
      DcmMetaInfo* meta = ff.getMetaInfo();
      OFCondition cc = ds->putAndInsertString(DCM_StudyInstanceUID, study_uid.c_str());
      if (cc.good()) cc = ds->putAndInsertString(DCM_SeriesInstanceUID, series_uid.c_str());
      if (cc.good()) cc = ds->putAndInsertString(DCM_SOPInstanceUID, sop.c_str());
      if (cc.good() && meta) cc = meta->putAndInsertString(DCM_MediaStorageSOPInstanceUID, sop.c_str());
      if (cc.bad()) return Status::Internal("set UIDs in " + f.path + ": " + cc.text());
      const std::string rel = opt.layout == Layout::kFlat
                                  ? sop + ".dcm"
                                  : study_uid + "/" + series_uid + "/" + sop + ".dcm";
      ReUidEntry e;
      e.source = f.path;
      e.output = JoinPath(opt.out_dir, rel);
      STRATA_RETURN_IF_ERROR(Save(ff, e.output, out_xfer, &e.bytes));
      e.transfer_syntax = DcmXfer(out_xfer).getXferID();
      e.sop_class = sop_class;
      e.study_uid = study_uid;
      e.series_uid = series_uid;
      e.sop_instance_uid = sop;
      e.original_sop_instance_uid = original_sop;
      e.variant = variant;
      ++report.written;
      if (variant) ++report.variants;
      report.bytes += e.bytes;
      report.entries.push_back(std::move(e));
      return Status::OK();
    };
    STRATA_RETURN_IF_ERROR(write(sop_uid, xfer, false));

    if (!xinfo.isEncapsulated()) {
      const std::pair<bool, std::pair<E_TransferSyntax, uint64_t>> variants[] = {
          {opt.implicit_variant, {EXS_LittleEndianImplicit, kVariantImplicit}},
          {opt.deflated_variant, {EXS_DeflatedLittleEndianExplicit, kVariantDeflated}},
      };
      for (const auto& [wanted, v] : variants) {
        if (!wanted || v.first == xfer) continue;
        STRATA_ASSIGN_OR_RETURN(std::string vuid,
                                MakeUid(root, {kSampleInstance, opt.seed, file_hash, v.second}));
        used_sop_uids.insert(vuid);
        STRATA_RETURN_IF_ERROR(write(vuid, v.first, true));
      }
    }
  }
  return report;
}

}  // namespace strata::testdata
