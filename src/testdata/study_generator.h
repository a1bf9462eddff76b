// StudyGenerator: deterministic, realistic DICOM test studies.
//
// Contract: every byte of every generated instance is a pure function of GeneratorOptions and
// the instance's position (patient, study, series, instance). The same options give
// byte-identical files on every run and for any number of threads; a different seed gives
// different UIDs, patients and pixels. Nothing depends on the clock, the host or the order of
// generation.
//
// Kinds:
//   kCt          CT Image Storage, 16-bit signed (RescaleIntercept -1024), axial chest-abdomen-
//                pelvis phantom with noise; default 512x512.
//   kMr          MR Image Storage, 16-bit unsigned (12 stored), axial head; default 256x256.
//   kMultiFrame  Multi-frame Grayscale Word SC Image Storage, CT-derived frames; default
//                256x256, 10 frames per instance.
//   kColor       Secondary Capture Image Storage, RGB 8-bit fusion screenshot; default 480x640.
//   kMono1       CR Image Storage, 8-bit MONOCHROME1 chest radiograph; default 425x345 (odd,
//                so the pixel data needs a pad byte).
//
// UIDs: <root>.<K><T>.<seed>.<patient>[.<study>[.<series>[.<instance>]]] where K is the kind
// (1..5) and T the UID type (1 study, 2 series, 3 instance, 4 frame of reference); all
// components are decimal without leading zeros, so every UID is valid.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "testdata/dicom_io.h"
#include "testdata/uid_scheme.h"
#include "util/status.h"

class DcmFileFormat;

namespace strata::testdata {

enum class ImageKind { kCt = 1, kMr = 2, kMultiFrame = 3, kColor = 4, kMono1 = 5 };
// "ct", "mr", "multiframe", "color", "mono1".
const char* ImageKindName(ImageKind k);
Result<ImageKind> ParseImageKind(const std::string& name);

struct GeneratorOptions {
  ImageKind kind = ImageKind::kCt;
  uint64_t seed = 1;
  uint32_t patients = 1;
  uint32_t first_patient = 1;  // patient numbers run first_patient .. first_patient+patients-1
  uint32_t studies_per_patient = 1;
  uint32_t series_per_study = 1;
  uint32_t images_per_series = 0;  // 0 = kind default (CT 100, MR 24, others 1)
  uint32_t frames = 0;             // multi-frame only; 0 = 10
  uint32_t rows = 0, cols = 0;     // 0 = kind default
  uint32_t bits_stored = 0;        // CT: 12 or 16 (default 16); MR/multi-frame: 12..16 (12)
  std::string study_date;          // YYYYMMDD for every study; empty = derived per study
  std::string uid_root;            // empty = kDefaultUidRoot
  OutputSyntax syntax = OutputSyntax::kExplicitLE;
};

struct InstanceKey {
  uint32_t patient = 1, study = 1, series = 1, instance = 1;  // all 1-based
  bool operator==(const InstanceKey&) const = default;
};

struct InstanceUids {
  std::string study, series, instance, frame_of_reference, sop_class;
};

enum class Layout {
  kHierarchical,  // DIR/<StudyUID>/<SeriesUID>/<SOPInstanceUID>.dcm
  kFlat,          // DIR/<SOPInstanceUID>.dcm
};

struct WriteProgress {
  uint64_t files_done = 0, files_total = 0, bytes_done = 0;
  double seconds = 0;
};

struct SeriesSummary {
  std::string patient_id, study_uid, series_uid, modality, study_date, dir;
  uint64_t instances = 0, bytes = 0;
};

struct WriteSummary {
  uint64_t files = 0, bytes = 0;
  double seconds = 0;
  unsigned threads = 0;
  std::vector<SeriesSummary> series;  // in generation order
};

struct WriteOptions {
  std::string out_dir;
  Layout layout = Layout::kHierarchical;
  unsigned threads = 0;  // 0 = one per core
  // Called from the calling thread about every PROGRESS_INTERVAL_MS and once at the end.
  std::function<void(const WriteProgress&)> progress;
  unsigned progress_interval_ms = 250;
  // If set and becomes true, WriteAll stops early and returns Unavailable.
  const std::atomic<bool>* cancel = nullptr;
};

class StudyGenerator {
 public:
  // Validates the options (counts >= 1, sizes, bits, date, UID root and the longest UID).
  static Result<StudyGenerator> Create(GeneratorOptions options);

  // Options with the kind defaults filled in.
  const GeneratorOptions& options() const { return opt_; }
  uint64_t instance_count() const;
  // The INDEX-th instance in generation order (patient, study, series, instance).
  InstanceKey KeyAt(uint64_t index) const;

  InstanceUids Uids(const InstanceKey& key) const;
  std::string PatientId(uint32_t patient) const;
  std::string StudyDate(const InstanceKey& key) const;  // YYYYMMDD
  // Path of the instance's file relative to the output directory.
  std::string RelativePath(const InstanceKey& key, Layout layout) const;

  // The complete dataset (with pixel data) of one instance.
  Result<std::unique_ptr<DcmFileFormat>> Build(const InstanceKey& key) const;
  // Part 10 bytes of one instance in options().syntax.
  Result<std::string> Encode(const InstanceKey& key) const;
  // Writes one instance to PATH; returns the file size.
  Result<uint64_t> WriteFile(const InstanceKey& key, const std::string& path) const;
  // Writes every instance under options.out_dir, instances spread over threads.
  Result<WriteSummary> WriteAll(const WriteOptions& options) const;

 private:
  explicit StudyGenerator(GeneratorOptions o) : opt_(std::move(o)) {}
  std::string Uid(UidType type, std::initializer_list<uint64_t> position) const;

  GeneratorOptions opt_;
};

// Tab-separated summary, one line per series:
// patient_id study_uid series_uid modality study_date instances bytes dir
Status WriteManifest(const std::string& path, const WriteSummary& summary);

}  // namespace strata::testdata
