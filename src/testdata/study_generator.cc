#include "testdata/study_generator.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include "model/uid.h"
#include "testdata/dataset_writer.h"
#include "testdata/dicom_values.h"
#include "testdata/image_kind.h"
#include "testdata/phantoms.h"
#include "testdata/rng.h"
#include "util/file_util.h"

namespace strata::testdata {
namespace {

enum Stream : uint64_t { kStudyInfo = 100, kAccession = 101, kReferrer = 102 };

const char* const kFamilyNames[] = {
    "SMITH",  "JOHNSON", "MUELLER", "GARCIA", "ROSSI",   "NGUYEN", "KOWALSKI", "SILVA",
    "TANAKA", "OKAFOR",  "DUBOIS",  "JANSEN", "NOVAK",   "LARSEN", "KIM",      "PETROV",
    "MORENO", "BERG",    "COHEN",   "SATO",   "FISCHER", "BROWN",  "LEROY",    "HANSEN"};
const char* const kFemaleNames[] = {"ANNA",  "MARIA", "SOFIA", "EMMA",  "JULIA",  "LINA",
                                    "CLARA", "HANNA", "NORA",  "ALICE", "GRACE",  "IRIS"};
const char* const kMaleNames[] = {"JOHN",  "PAUL",  "LUCAS", "DAVID", "MARCO", "ERIK",
                                  "PETER", "OMAR",  "FELIX", "JONAS", "HENRY", "LEON"};
const char* const kReferrers[] = {"HOUSE^GREGORY", "GREY^MEREDITH", "KILDARE^JAMES",
                                  "QUINN^MICHAELA", "ROSS^DOUGLAS", "CARTER^JOHN"};

template <size_t N>
const char* Pick(const char* const (&list)[N], uint64_t h) {
  return list[h % N];
}

}  // namespace

Result<StudyGenerator> StudyGenerator::Create(GeneratorOptions o) {
  const ImageKindInfo* kind = FindImageKind(o.kind);
  if (kind == nullptr) return Status::InvalidArgument("unknown image kind " + std::to_string(static_cast<int>(o.kind)));
  const ImageKindInfo& def = *kind;
  if (o.images_per_series == 0) o.images_per_series = def.images;
  if (o.rows == 0) o.rows = def.rows;
  if (o.cols == 0) o.cols = def.cols;
  if (o.bits_stored == 0) o.bits_stored = def.bits_stored;
  if (o.kind == ImageKind::kMultiFrame) {
    if (o.frames == 0) o.frames = 10;
  } else if (o.frames > 1) {
    return Status::InvalidArgument("frames apply to the multiframe kind only");
  } else {
    o.frames = 1;
  }
  if (o.uid_root.empty()) o.uid_root = std::string(kDefaultUidRoot);

  if (o.patients == 0 || o.studies_per_patient == 0 || o.series_per_study == 0)
    return Status::InvalidArgument("patients, studies per patient and series must be >= 1");
  if (o.first_patient == 0) return Status::InvalidArgument("first patient must be >= 1");
  if (o.rows > 8192 || o.cols > 8192)
    return Status::InvalidArgument("image size must be 1..8192 rows and columns");
  if (o.frames > 2000) return Status::InvalidArgument("frames must be 1..2000");
  switch (o.kind) {
    case ImageKind::kCt:
      if (o.bits_stored != 12 && o.bits_stored != 16)
        return Status::InvalidArgument("CT bits stored must be 12 or 16");
      break;
    case ImageKind::kMr:
    case ImageKind::kMultiFrame:
      if (o.bits_stored < 12 || o.bits_stored > 16)
        return Status::InvalidArgument("bits stored must be 12..16");
      break;
    case ImageKind::kColor:
    case ImageKind::kMono1:
      if (o.bits_stored != 8) return Status::InvalidArgument("bits stored must be 8 for this kind");
      break;
  }
  const uint64_t bytes_per_sample = o.bits_stored > 8 ? 2 : 1;
  const uint64_t samples = o.kind == ImageKind::kColor ? 3 : 1;
  if (uint64_t{o.rows} * o.cols * samples * bytes_per_sample * o.frames > 0xFFFFFFF0ull)
    return Status::InvalidArgument("pixel data would exceed 4 GB");
  if (!o.study_date.empty()) {
    STRATA_ASSIGN_OR_RETURN(Date d, ParseDate(o.study_date));
    (void)d;
  }
  STRATA_RETURN_IF_ERROR(ValidateUidRoot(o.uid_root));
  // The longest UID is the last instance's; if it fits, every UID does.
  uint64_t last_patient = uint64_t{o.first_patient} + o.patients - 1;
  if (last_patient > 0xFFFFFFFFull) return Status::InvalidArgument("patient numbers overflow");
  STRATA_ASSIGN_OR_RETURN(
      std::string longest,
      MakeUid(o.uid_root, {static_cast<uint64_t>(o.kind) * 10 + 3, o.seed, last_patient,
                           o.studies_per_patient, o.series_per_study, o.images_per_series}));
  (void)longest;
  return StudyGenerator(std::move(o));
}

uint64_t StudyGenerator::instance_count() const {
  return uint64_t{opt_.patients} * opt_.studies_per_patient * opt_.series_per_study *
         opt_.images_per_series;
}

InstanceKey StudyGenerator::KeyAt(uint64_t index) const {
  InstanceKey k;
  k.instance = static_cast<uint32_t>(index % opt_.images_per_series) + 1;
  index /= opt_.images_per_series;
  k.series = static_cast<uint32_t>(index % opt_.series_per_study) + 1;
  index /= opt_.series_per_study;
  k.study = static_cast<uint32_t>(index % opt_.studies_per_patient) + 1;
  index /= opt_.studies_per_patient;
  k.patient = opt_.first_patient + static_cast<uint32_t>(index);
  return k;
}

std::string StudyGenerator::Uid(UidType type, std::initializer_list<uint64_t> position) const {
  std::string uid = opt_.uid_root;
  auto append = [&uid](uint64_t v) {
    uid.push_back('.');
    uid += std::to_string(v);
  };
  append(static_cast<uint64_t>(opt_.kind) * 10 + static_cast<uint64_t>(type));
  append(opt_.seed);
  for (uint64_t p : position) append(p);
  return uid;  // Create() checked that the longest one is valid
}

InstanceUids StudyGenerator::Uids(const InstanceKey& k) const {
  InstanceUids u;
  u.study = Uid(UidType::kStudy, {k.patient, k.study});
  u.series = Uid(UidType::kSeries, {k.patient, k.study, k.series});
  u.instance = Uid(UidType::kInstance, {k.patient, k.study, k.series, k.instance});
  u.frame_of_reference = Uid(UidType::kFrameOfReference, {k.patient, k.study});
  u.sop_class = KindInfo(opt_.kind).sop_class;
  return u;
}

std::string StudyGenerator::PatientId(uint32_t patient) const {
  char buf[48];
  std::snprintf(buf, sizeof buf, "SG%lluP%05u", static_cast<unsigned long long>(opt_.seed), patient);
  return buf;
}

std::string StudyGenerator::StudyDate(const InstanceKey& k) const {
  if (!opt_.study_date.empty()) return opt_.study_date;
  Rng r({opt_.seed, static_cast<uint64_t>(opt_.kind), k.patient, k.study, kStudyInfo});
  return FormatDate(AddDays(Date{2019, 1, 1}, static_cast<int>(r.Int(0, 5 * 365))));
}

std::string StudyGenerator::RelativePath(const InstanceKey& k, Layout layout) const {
  InstanceUids u = Uids(k);
  if (layout == Layout::kFlat) return u.instance + ".dcm";
  return u.study + "/" + u.series + "/" + u.instance + ".dcm";
}

Result<std::unique_ptr<DcmFileFormat>> StudyGenerator::Build(const InstanceKey& k) const {
  if (k.patient < opt_.first_patient || k.patient - opt_.first_patient >= opt_.patients ||
      k.study < 1 || k.study > opt_.studies_per_patient || k.series < 1 ||
      k.series > opt_.series_per_study || k.instance < 1 || k.instance > opt_.images_per_series) {
    return Status::InvalidArgument("instance position outside the generated range");
  }
  auto ff = std::make_unique<DcmFileFormat>();
  DcmDataset* ds = ff->getDataset();
  DsWriter w(ds);
  const ImageKind kind = opt_.kind;
  const InstanceUids uid = Uids(k);
  const Habitus hab = MakeHabitus(opt_.seed, k.patient);

  // --- Patient, study and series identity ------------------------------------------------------
  const std::string study_date = StudyDate(k);
  Rng study_rng({opt_.seed, static_cast<uint64_t>(kind), k.patient, k.study, kStudyInfo});
  (void)study_rng.Int(0, 5 * 365);  // the same draw StudyDate() used
  const int study_secs = static_cast<int>(study_rng.Int(7 * 3600, 18 * 3600));
  const int series_secs = study_secs + static_cast<int>(k.series - 1) * 300 + 60;
  const int content_secs = series_secs + static_cast<int>((k.instance - 1) / 4);
  STRATA_ASSIGN_OR_RETURN(Date sdate, ParseDate(study_date));
  Date birth{hab.birth_year, hab.birth_month, hab.birth_day};
  if (sdate.y - birth.y < 1) birth.y = sdate.y - 20 - (hab.birth_year % 40);
  int age = sdate.y - birth.y - ((sdate.m * 100 + sdate.d) < (birth.m * 100 + birth.d) ? 1 : 0);
  age = std::clamp(age, 0, 999);
  char age_str[8];
  std::snprintf(age_str, sizeof age_str, "%03dY", age);
  Rng name_rng({opt_.seed, k.patient, 7});
  const std::string patient_name =
      std::string(Pick(kFamilyNames, name_rng.Next())) + "^" +
      (hab.sex == 'F' ? Pick(kFemaleNames, name_rng.Next()) : Pick(kMaleNames, name_rng.Next()));
  char accession[24];
  std::snprintf(accession, sizeof accession, "A%012llu",
                static_cast<unsigned long long>(
                    HashKey({opt_.seed, static_cast<uint64_t>(kind), k.patient, k.study, kAccession}) %
                    1000000000000ull));

  w.Str(DCM_SpecificCharacterSet, "ISO_IR 100");
  w.Str(DCM_SOPClassUID, uid.sop_class);
  w.Str(DCM_SOPInstanceUID, uid.instance);
  w.Str(DCM_InstanceCreationDate, study_date);
  w.Str(DCM_InstanceCreationTime, FormatTime(content_secs));
  w.Str(DCM_StudyDate, study_date);
  w.Str(DCM_SeriesDate, study_date);
  w.Str(DCM_ContentDate, study_date);
  w.Str(DCM_StudyTime, FormatTime(study_secs));
  w.Str(DCM_SeriesTime, FormatTime(series_secs));
  w.Str(DCM_ContentTime, FormatTime(content_secs));
  w.Str(DCM_AccessionNumber, accession);
  w.Str(DCM_Modality, KindInfo(kind).modality);
  w.Str(DCM_Manufacturer, "STRATA");
  w.Str(DCM_InstitutionName, "Strata Test Hospital");
  w.Str(DCM_ReferringPhysicianName,
        Pick(kReferrers, HashKey({opt_.seed, k.patient, k.study, kReferrer})));
  w.Str(DCM_StationName, "STRATAGEN");
  w.Str(DCM_ManufacturerModelName, "strata-gen");
  w.Str(DCM_SoftwareVersions, "strata-gen 1");
  w.Str(DCM_PatientName, patient_name);
  w.Str(DCM_PatientID, PatientId(k.patient));
  w.Str(DCM_IssuerOfPatientID, "STRATA-GEN");
  w.Str(DCM_PatientBirthDate, FormatDate(birth));
  w.Str(DCM_PatientSex, std::string(1, hab.sex));
  w.Str(DCM_PatientAge, age_str);
  w.Str(DCM_StudyInstanceUID, uid.study);
  w.Str(DCM_SeriesInstanceUID, uid.series);
  w.Str(DCM_StudyID, std::to_string(k.study));
  w.Str(DCM_SeriesNumber, std::to_string(k.series));
  w.Str(DCM_InstanceNumber, std::to_string(k.instance));
  w.Str(DCM_LossyImageCompression, "00");

  // --- Kind-specific modules and pixel data (image_kind.h, one builder per kind) -----------------
  const ImageContext context{opt_, k, uid, hab, study_date, series_secs, content_secs};
  KindInfo(kind).build(context, w);
  STRATA_RETURN_IF_ERROR(w.status().WithContext("build " + uid.instance));
  return ff;
}

Result<std::string> StudyGenerator::Encode(const InstanceKey& key) const {
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<DcmFileFormat> ff, Build(key));
  return EncodePart10(*ff, opt_.syntax);
}

Result<uint64_t> StudyGenerator::WriteFile(const InstanceKey& key, const std::string& path) const {
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<DcmFileFormat> ff, Build(key));
  return SavePart10(*ff, path, opt_.syntax);
}

Result<WriteSummary> StudyGenerator::WriteAll(const WriteOptions& wo) const {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  if (wo.out_dir.empty()) return Status::InvalidArgument("no output directory");
  const uint64_t total = instance_count();
  const uint64_t per_series = opt_.images_per_series;
  const uint64_t n_series = total / per_series;

  WriteSummary summary;
  summary.series.resize(n_series);
  STRATA_RETURN_IF_ERROR(MakeDirs(wo.out_dir));
  for (uint64_t s = 0; s < n_series; ++s) {
    InstanceKey k = KeyAt(s * per_series);
    InstanceUids u = Uids(k);
    SeriesSummary& ss = summary.series[s];
    ss.patient_id = PatientId(k.patient);
    ss.study_uid = u.study;
    ss.series_uid = u.series;
    ss.modality = KindInfo(opt_.kind).modality;
    ss.study_date = StudyDate(k);
    ss.dir = wo.layout == Layout::kFlat ? wo.out_dir
                                        : JoinPath(JoinPath(wo.out_dir, u.study), u.series);
    STRATA_RETURN_IF_ERROR(MakeDirs(ss.dir));
  }

  unsigned threads = wo.threads ? wo.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<uint64_t>(threads, std::max<uint64_t>(total, 1)));
  std::atomic<uint64_t> next{0}, done{0}, bytes{0};
  std::atomic<bool> stop{false};
  std::atomic<unsigned> running{threads};
  std::unique_ptr<std::atomic<uint64_t>[]> series_bytes(new std::atomic<uint64_t>[n_series]);
  for (uint64_t s = 0; s < n_series; ++s) series_bytes[s] = 0;
  std::mutex mu;
  Status first_error;

  auto worker = [&] {
    for (;;) {
      if (stop.load() || (wo.cancel && wo.cancel->load())) break;
      uint64_t i = next.fetch_add(1);
      if (i >= total) break;
      InstanceKey k = KeyAt(i);
      const std::string path = JoinPath(wo.out_dir, RelativePath(k, wo.layout));
      Result<uint64_t> r = WriteFile(k, path);
      if (!r.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first_error.ok()) first_error = r.status();
        stop = true;
        break;
      }
      bytes += *r;
      series_bytes[i / per_series] += *r;
      ++done;
    }
    --running;
  };
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);

  auto report = [&] {
    if (!wo.progress) return;
    WriteProgress p;
    p.files_done = done.load();
    p.files_total = total;
    p.bytes_done = bytes.load();
    p.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    wo.progress(p);
  };
  auto last = Clock::now();
  while (running.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (Clock::now() - last >= std::chrono::milliseconds(wo.progress_interval_ms)) {
      last = Clock::now();
      report();
    }
  }
  for (auto& t : pool) t.join();
  report();

  if (!first_error.ok()) return first_error;
  if (done.load() < total) return Status::Unavailable("generation cancelled");
  summary.files = done.load();
  summary.bytes = bytes.load();
  summary.threads = threads;
  for (uint64_t s = 0; s < n_series; ++s) {
    summary.series[s].instances = per_series;
    summary.series[s].bytes = series_bytes[s].load();
  }
  summary.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return summary;
}

Status WriteManifest(const std::string& path, const WriteSummary& summary) {
  std::string out = "patient_id\tstudy_uid\tseries_uid\tmodality\tstudy_date\tinstances\tbytes\tdir\n";
  for (const auto& s : summary.series) {
    out += s.patient_id + "\t" + s.study_uid + "\t" + s.series_uid + "\t" + s.modality + "\t" +
           s.study_date + "\t" + std::to_string(s.instances) + "\t" + std::to_string(s.bytes) +
           "\t" + s.dir + "\n";
  }
  return WriteFileAtomic(path, out);
}

}  // namespace strata::testdata
