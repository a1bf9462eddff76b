#include "testdata/study_generator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvrat.h>
#include <dcmtk/dcmdata/dcvrss.h>

#include "model/uid.h"
#include "testdata/phantoms.h"
#include "testdata/rng.h"
#include "util/file_util.h"

namespace strata::testdata {
namespace {

constexpr const char* kMultiFrameWordScStorage = "1.2.840.10008.5.1.4.1.1.7.3";
constexpr int16_t kCtPadding = -2000;

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

struct Date {
  int y, m, d;
};

Result<Date> ParseDate(const std::string& s) {
  if (s.size() != 8 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return Status::InvalidArgument("study date '" + s + "' is not YYYYMMDD");
  Date d{std::stoi(s.substr(0, 4)), std::stoi(s.substr(4, 2)), std::stoi(s.substr(6, 2))};
  std::chrono::year_month_day ymd{std::chrono::year{d.y}, std::chrono::month{static_cast<unsigned>(d.m)},
                                  std::chrono::day{static_cast<unsigned>(d.d)}};
  if (!ymd.ok() || d.y < 1900) return Status::InvalidArgument("study date '" + s + "' is not a valid date");
  return d;
}

std::string FormatDate(const Date& d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d", d.y, d.m, d.d);
  return buf;
}

Date AddDays(Date d, int days) {
  using namespace std::chrono;
  sys_days sd{year_month_day{year{d.y}, month{static_cast<unsigned>(d.m)}, day{static_cast<unsigned>(d.d)}}};
  year_month_day r{sd + std::chrono::days{days}};
  return Date{static_cast<int>(r.year()), static_cast<int>(static_cast<unsigned>(r.month())),
              static_cast<int>(static_cast<unsigned>(r.day()))};
}

std::string FormatTime(int seconds_of_day) {
  seconds_of_day = std::clamp(seconds_of_day, 0, 86399);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d%02d%02d", seconds_of_day / 3600, seconds_of_day / 60 % 60,
                seconds_of_day % 60);
  return buf;
}

// Decimal string for DS: at most 16 characters, no trailing zeros.
std::string Ds(double v, int decimals = 6) {
  char buf[64];
  for (int p = decimals; p >= 0; --p) {
    std::snprintf(buf, sizeof buf, "%.*f", p, v);
    std::string s(buf);
    if (s.find('.') != std::string::npos) {
      while (!s.empty() && s.back() == '0') s.pop_back();
      if (!s.empty() && s.back() == '.') s.pop_back();
    }
    if (s == "-0") s = "0";
    if (s.size() <= 16) return s;
  }
  return "0";
}

// Collects the first DCMTK failure while a dataset is filled in.
class DsWriter {
 public:
  explicit DsWriter(DcmItem* item) : item_(item) {}
  void Str(const DcmTagKey& tag, const std::string& v) {
    Check(item_->putAndInsertString(tag, v.c_str()), tag);
  }
  void U16(const DcmTagKey& tag, Uint16 v) { Check(item_->putAndInsertUint16(tag, v), tag); }
  void S16(const DcmTagKey& tag, Sint16 v) {
    auto* e = new DcmSignedShort(DcmTag(tag, EVR_SS));
    OFCondition c = e->putSint16(v);
    if (c.good()) {
      c = item_->insert(e, true);
    } else {
      delete e;
    }
    Check(c, tag);
  }
  void At(const DcmTagKey& tag, const DcmTagKey& value) {
    auto* e = new DcmAttributeTag(DcmTag(tag, EVR_AT));
    OFCondition c = e->putTagVal(value);
    if (c.good()) {
      c = item_->insert(e, true);
    } else {
      delete e;
    }
    Check(c, tag);
  }
  // Pixel data of COUNT 16-bit words; returns the buffer to fill.
  Uint16* Words(size_t count) {
    auto* px = new DcmPixelData(DcmTag(DCM_PixelData, EVR_OW));
    Uint16* buf = nullptr;
    OFCondition c = px->createUint16Array(static_cast<Uint32>(count), buf);
    if (c.good()) c = item_->insert(px, true);
    else delete px;
    Check(c, DCM_PixelData);
    return c.good() ? buf : nullptr;
  }
  // Pixel data of COUNT bytes (padded to even length with a zero byte).
  Uint8* Bytes(size_t count) {
    auto* px = new DcmPixelData(DcmTag(DCM_PixelData, EVR_OB));
    Uint8* buf = nullptr;
    size_t even = (count + 1) & ~size_t{1};
    OFCondition c = px->createUint8Array(static_cast<Uint32>(even), buf);
    if (c.good()) {
      if (even != count) buf[count] = 0;
      c = item_->insert(px, true);
    } else {
      delete px;
    }
    Check(c, DCM_PixelData);
    return c.good() ? buf : nullptr;
  }
  const Status& status() const { return status_; }

 private:
  void Check(const OFCondition& c, const DcmTagKey& tag) {
    if (c.bad() && status_.ok()) {
      status_ = Status::Internal("set " + std::string(tag.toString().c_str()) + ": " + c.text());
    }
  }
  DcmItem* item_;
  Status status_;
};

// Patient position, image plane and 16-bit MONOCHROME2 image pixel attributes shared by the
// cross-sectional kinds (CT, MR).
void PutMonochromePlane(DsWriter& w, double origin_x, double origin_y, double z, const std::string& frame_of_ref,
                        uint32_t rows, uint32_t cols, double ps, uint32_t bits_stored) {
  w.Str(DCM_PatientPosition, "HFS");
  w.Str(DCM_AcquisitionNumber, "1");
  w.Str(DCM_ImagePositionPatient, Ds(origin_x, 3) + "\\" + Ds(origin_y, 3) + "\\" + Ds(z, 3));
  w.Str(DCM_ImageOrientationPatient, "1\\0\\0\\0\\1\\0");
  w.Str(DCM_FrameOfReferenceUID, frame_of_ref);
  w.Str(DCM_PositionReferenceIndicator, "");
  w.Str(DCM_SliceLocation, Ds(z, 3));
  w.U16(DCM_SamplesPerPixel, 1);
  w.Str(DCM_PhotometricInterpretation, "MONOCHROME2");
  w.U16(DCM_Rows, static_cast<Uint16>(rows));
  w.U16(DCM_Columns, static_cast<Uint16>(cols));
  w.Str(DCM_PixelSpacing, Ds(ps) + "\\" + Ds(ps));
  w.U16(DCM_BitsAllocated, 16);
  w.U16(DCM_BitsStored, static_cast<Uint16>(bits_stored));
  w.U16(DCM_HighBit, static_cast<Uint16>(bits_stored - 1));
}

struct KindDefaults {
  uint32_t images, rows, cols, bits_stored;
};

KindDefaults DefaultsFor(ImageKind k) {
  switch (k) {
    case ImageKind::kCt:
      return {100, 512, 512, 16};
    case ImageKind::kMr:
      return {24, 256, 256, 12};
    case ImageKind::kMultiFrame:
      return {1, 256, 256, 12};
    case ImageKind::kColor:
      return {1, 480, 640, 8};
    case ImageKind::kMono1:
      return {1, 425, 345, 8};
  }
  return {1, 256, 256, 8};
}

const char* SopClassFor(ImageKind k) {
  switch (k) {
    case ImageKind::kCt:
      return UID_CTImageStorage;
    case ImageKind::kMr:
      return UID_MRImageStorage;
    case ImageKind::kMultiFrame:
      return kMultiFrameWordScStorage;
    case ImageKind::kColor:
      return UID_SecondaryCaptureImageStorage;
    case ImageKind::kMono1:
      return UID_ComputedRadiographyImageStorage;
  }
  return UID_SecondaryCaptureImageStorage;
}

const char* ModalityFor(ImageKind k) {
  switch (k) {
    case ImageKind::kCt:
      return "CT";
    case ImageKind::kMr:
      return "MR";
    case ImageKind::kMono1:
      return "CR";
    default:
      return "OT";
  }
}

// Per-series CT protocol: slice thickness, kernel and the noise it implies.
struct CtProtocol {
  double thickness;
  const char* kernel;
  double noise;
};
CtProtocol CtProtocolFor(uint32_t series) {
  static constexpr CtProtocol kProtocols[] = {
      {1.25, "STANDARD", 1.0}, {2.5, "LUNG", 1.5}, {5.0, "BONE", 1.3}, {0.625, "SOFT", 0.8}};
  CtProtocol p = kProtocols[(series - 1) % 4];
  p.noise *= std::sqrt(1.25 / p.thickness);
  return p;
}

struct MrProtocol {
  const char* description;
  const char* scanning_sequence;
  const char* sequence_variant;
  const char* sequence_name;
  double tr, te, ti;
  int echo_train;
  double flip;
  const char* window_center;
  const char* window_width;
};
constexpr MrProtocol kMrProtocols[3] = {
    {"AX T1 SE", "SE", "NONE", "se2d1", 500, 12, 0, 1, 90, "600", "1200"},
    {"AX T2 TSE", "SE", "SK", "tse2d1_15", 4000, 100, 0, 15, 150, "900", "1800"},
    {"AX FLAIR", "SE\\IR", "SK\\MP", "tir2d1_15", 9000, 120, 2500, 15, 150, "650", "1300"},
};

}  // namespace

const char* ImageKindName(ImageKind k) {
  switch (k) {
    case ImageKind::kCt:
      return "ct";
    case ImageKind::kMr:
      return "mr";
    case ImageKind::kMultiFrame:
      return "multiframe";
    case ImageKind::kColor:
      return "color";
    case ImageKind::kMono1:
      return "mono1";
  }
  return "?";
}

Result<ImageKind> ParseImageKind(const std::string& name) {
  for (ImageKind k : {ImageKind::kCt, ImageKind::kMr, ImageKind::kMultiFrame, ImageKind::kColor,
                      ImageKind::kMono1}) {
    if (name == ImageKindName(k)) return k;
  }
  return Status::InvalidArgument("unknown image kind '" + name +
                                 "' (use ct, mr, multiframe, color or mono1)");
}

Result<StudyGenerator> StudyGenerator::Create(GeneratorOptions o) {
  const KindDefaults def = DefaultsFor(o.kind);
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
  u.sop_class = SopClassFor(opt_.kind);
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
  const uint32_t rows = opt_.rows, cols = opt_.cols;
  const size_t pixels = static_cast<size_t>(rows) * cols;

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
  w.Str(DCM_Modality, ModalityFor(kind));
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

  // --- Kind-specific modules and pixel data ----------------------------------------------------
  switch (kind) {
    case ImageKind::kCt: {
      const CtProtocol proto = CtProtocolFor(k.series);
      CtSeriesParams cp;
      cp.seed = opt_.seed;
      cp.patient = k.patient;
      cp.study = k.study;
      cp.series = k.series;
      cp.rows = rows;
      cp.cols = cols;
      cp.slices = opt_.images_per_series;
      cp.thickness_mm = proto.thickness;
      cp.noise_scale = proto.noise;
      CtPhantom ct(cp);
      const uint32_t slice = k.instance - 1;
      const double z = ct.slice_z_mm(slice);
      const double ps = ct.pixel_spacing_mm();
      w.Str(DCM_ImageType, "ORIGINAL\\PRIMARY\\AXIAL");
      w.Str(DCM_AcquisitionDate, study_date);
      w.Str(DCM_AcquisitionTime, FormatTime(series_secs));
      w.Str(DCM_StudyDescription, hab.contrast_hu > 40 ? "CT CHEST ABDOMEN PELVIS W CONTRAST"
                                                       : "CT CHEST ABDOMEN PELVIS");
      w.Str(DCM_SeriesDescription, "AXIAL " + Ds(proto.thickness, 3) + "mm " + proto.kernel);
      w.Str(DCM_BodyPartExamined, "CHEST");
      w.Str(DCM_ScanOptions, "HELICAL MODE");
      w.Str(DCM_SliceThickness, Ds(proto.thickness, 3));
      w.Str(DCM_KVP, "120");
      w.Str(DCM_SpacingBetweenSlices, Ds(proto.thickness, 3));
      w.Str(DCM_DataCollectionDiameter, "500");
      w.Str(DCM_ReconstructionDiameter, Ds(ct.fov_mm(), 1));
      w.Str(DCM_DistanceSourceToDetector, "1040");
      w.Str(DCM_DistanceSourceToPatient, "570");
      w.Str(DCM_GantryDetectorTilt, "0");
      w.Str(DCM_TableHeight, "160");
      w.Str(DCM_RotationDirection, "CW");
      w.Str(DCM_ExposureTime, "500");
      w.Str(DCM_XRayTubeCurrent, "250");
      w.Str(DCM_Exposure, "125");
      w.Str(DCM_FilterType, "BODY FILTER");
      w.Str(DCM_ConvolutionKernel, proto.kernel);
      PutMonochromePlane(w, ct.origin_x_mm(), ct.origin_y_mm(), z, uid.frame_of_reference, rows, cols, ps,
                         opt_.bits_stored);
      w.U16(DCM_PixelRepresentation, 1);
      w.S16(DCM_PixelPaddingValue, kCtPadding);
      w.Str(DCM_WindowCenter, "40\\-600");
      w.Str(DCM_WindowWidth, "400\\1500");
      w.Str(DCM_WindowCenterWidthExplanation, "SOFT TISSUE\\LUNG");
      w.Str(DCM_RescaleIntercept, "-1024");
      w.Str(DCM_RescaleSlope, "1");
      w.Str(DCM_RescaleType, "HU");
      if (Uint16* px = w.Words(pixels)) {
        const int32_t max_stored = opt_.bits_stored >= 16 ? 4095 : 2047;
        ct.RenderStored(slice, max_stored, kCtPadding, reinterpret_cast<int16_t*>(px));
      }
      break;
    }
    case ImageKind::kMr: {
      const MrProtocol& proto = kMrProtocols[(k.series - 1) % 3];
      MrSeriesParams mp;
      mp.seed = opt_.seed;
      mp.patient = k.patient;
      mp.study = k.study;
      mp.series = k.series;
      mp.rows = rows;
      mp.cols = cols;
      mp.slices = opt_.images_per_series;
      mp.sequence = static_cast<int>((k.series - 1) % 3);
      MrPhantom mr(mp);
      const uint32_t slice = k.instance - 1;
      const double z = mr.slice_z_mm(slice);
      const double ps = mr.pixel_spacing_mm();
      const double spacing = std::min(mr.slice_spacing_mm(), 170.0 / opt_.images_per_series);
      w.Str(DCM_ImageType, "ORIGINAL\\PRIMARY\\M\\ND");
      w.Str(DCM_AcquisitionDate, study_date);
      w.Str(DCM_AcquisitionTime, FormatTime(series_secs));
      w.Str(DCM_StudyDescription, "MR BRAIN W/O CONTRAST");
      w.Str(DCM_SeriesDescription, proto.description);
      w.Str(DCM_BodyPartExamined, "HEAD");
      w.Str(DCM_ScanningSequence, proto.scanning_sequence);
      w.Str(DCM_SequenceVariant, proto.sequence_variant);
      w.Str(DCM_ScanOptions, "");
      w.Str(DCM_MRAcquisitionType, "2D");
      w.Str(DCM_SequenceName, proto.sequence_name);
      w.Str(DCM_AngioFlag, "N");
      w.Str(DCM_SliceThickness, Ds(spacing * 5.0 / 6.0, 3));
      w.Str(DCM_RepetitionTime, Ds(proto.tr, 1));
      w.Str(DCM_EchoTime, Ds(proto.te, 1));
      if (proto.ti > 0) w.Str(DCM_InversionTime, Ds(proto.ti, 1));
      w.Str(DCM_NumberOfAverages, "1");
      w.Str(DCM_ImagingFrequency, "63.869");
      w.Str(DCM_ImagedNucleus, "1H");
      w.Str(DCM_EchoNumbers, "1");
      w.Str(DCM_MagneticFieldStrength, "1.5");
      w.Str(DCM_SpacingBetweenSlices, Ds(spacing, 3));
      w.Str(DCM_EchoTrainLength, std::to_string(proto.echo_train));
      w.Str(DCM_PixelBandwidth, "130");
      w.Str(DCM_FlipAngle, Ds(proto.flip, 1));
      PutMonochromePlane(w, mr.origin_x_mm(), mr.origin_y_mm(), z, uid.frame_of_reference, rows, cols, ps,
                         opt_.bits_stored);
      w.U16(DCM_PixelRepresentation, 0);
      w.Str(DCM_WindowCenter, proto.window_center);
      w.Str(DCM_WindowWidth, proto.window_width);
      if (Uint16* px = w.Words(pixels)) {
        mr.Render(slice, static_cast<uint16_t>((1u << opt_.bits_stored) - 1), px);
      }
      break;
    }
    case ImageKind::kMultiFrame: {
      CtSeriesParams cp;
      cp.seed = opt_.seed;
      cp.patient = k.patient;
      cp.study = k.study;
      cp.series = k.series;
      cp.rows = rows;
      cp.cols = cols;
      cp.slices = opt_.frames * opt_.images_per_series;
      cp.thickness_mm = 5.0;
      CtPhantom ct(cp);
      const double ps = ct.pixel_spacing_mm();
      std::string locations;
      for (uint32_t f = 0; f < opt_.frames; ++f) {
        if (f) locations += "\\";
        locations += Ds(ct.slice_z_mm((k.instance - 1) * opt_.frames + f), 3);
      }
      w.Str(DCM_ImageType, "DERIVED\\SECONDARY\\AXIAL");
      w.Str(DCM_StudyDescription, "CT CHEST ABDOMEN PELVIS");
      w.Str(DCM_SeriesDescription, "MULTIFRAME 5mm SC");
      w.Str(DCM_BodyPartExamined, "CHEST");
      w.Str(DCM_ConversionType, "WSD");
      w.Str(DCM_DateOfSecondaryCapture, study_date);
      w.Str(DCM_TimeOfSecondaryCapture, FormatTime(content_secs));
      w.Str(DCM_PatientOrientation, "L\\P");
      w.Str(DCM_BurnedInAnnotation, "NO");
      w.Str(DCM_PresentationLUTShape, "IDENTITY");
      w.Str(DCM_NumberOfFrames, std::to_string(opt_.frames));
      w.At(DCM_FrameIncrementPointer, DCM_SliceLocationVector);
      w.Str(DCM_SliceLocationVector, locations);
      w.Str(DCM_NominalScannedPixelSpacing, Ds(ps) + "\\" + Ds(ps));
      w.Str(DCM_PixelSpacing, Ds(ps) + "\\" + Ds(ps));
      w.U16(DCM_SamplesPerPixel, 1);
      w.Str(DCM_PhotometricInterpretation, "MONOCHROME2");
      w.U16(DCM_Rows, static_cast<Uint16>(rows));
      w.U16(DCM_Columns, static_cast<Uint16>(cols));
      w.U16(DCM_BitsAllocated, 16);
      w.U16(DCM_BitsStored, static_cast<Uint16>(opt_.bits_stored));
      w.U16(DCM_HighBit, static_cast<Uint16>(opt_.bits_stored - 1));
      w.U16(DCM_PixelRepresentation, 0);
      w.Str(DCM_WindowCenter, "40");  // after the rescale, in HU
      w.Str(DCM_WindowWidth, "400");
      w.Str(DCM_RescaleIntercept, "-1024");
      w.Str(DCM_RescaleSlope, "1");
      w.Str(DCM_RescaleType, "HU");
      if (Uint16* px = w.Words(pixels * opt_.frames)) {
        const uint16_t max_stored = static_cast<uint16_t>(std::min(4095u, (1u << opt_.bits_stored) - 1));
        for (uint32_t f = 0; f < opt_.frames; ++f) {
          ct.RenderStoredUnsigned((k.instance - 1) * opt_.frames + f, max_stored, px + f * pixels);
        }
      }
      break;
    }
    case ImageKind::kColor: {
      w.Str(DCM_ImageType, "DERIVED\\SECONDARY");
      w.Str(DCM_StudyDescription, "PET-CT FUSION REVIEW");
      w.Str(DCM_SeriesDescription, "FUSION SCREENSHOTS");
      w.Str(DCM_BodyPartExamined, "CHEST");
      w.Str(DCM_ConversionType, "WSD");
      w.Str(DCM_DateOfSecondaryCapture, study_date);
      w.Str(DCM_TimeOfSecondaryCapture, FormatTime(content_secs));
      w.Str(DCM_PatientOrientation, "L\\P");
      w.Str(DCM_BurnedInAnnotation, "NO");
      w.U16(DCM_SamplesPerPixel, 3);
      w.Str(DCM_PhotometricInterpretation, "RGB");
      w.U16(DCM_PlanarConfiguration, 0);
      w.U16(DCM_Rows, static_cast<Uint16>(rows));
      w.U16(DCM_Columns, static_cast<Uint16>(cols));
      w.U16(DCM_BitsAllocated, 8);
      w.U16(DCM_BitsStored, 8);
      w.U16(DCM_HighBit, 7);
      w.U16(DCM_PixelRepresentation, 0);
      if (Uint8* px = w.Bytes(pixels * 3)) {
        RenderFusionRgb(opt_.seed, k.patient, k.study, k.series, k.instance, rows, cols, px);
      }
      break;
    }
    case ImageKind::kMono1: {
      w.Str(DCM_ImageType, "ORIGINAL\\PRIMARY");
      w.Str(DCM_StudyDescription, "XR CHEST PA");
      w.Str(DCM_SeriesDescription, "CHEST PA");
      w.Str(DCM_BodyPartExamined, "CHEST");
      w.Str(DCM_ViewPosition, "PA");
      w.Str(DCM_KVP, "125");
      w.Str(DCM_PatientOrientation, "L\\F");
      w.Str(DCM_AcquisitionDate, study_date);
      w.Str(DCM_AcquisitionTime, FormatTime(series_secs));
      w.U16(DCM_SamplesPerPixel, 1);
      w.Str(DCM_PhotometricInterpretation, "MONOCHROME1");
      w.U16(DCM_Rows, static_cast<Uint16>(rows));
      w.U16(DCM_Columns, static_cast<Uint16>(cols));
      w.U16(DCM_BitsAllocated, 8);
      w.U16(DCM_BitsStored, 8);
      w.U16(DCM_HighBit, 7);
      w.U16(DCM_PixelRepresentation, 0);
      w.Str(DCM_WindowCenter, "128");
      w.Str(DCM_WindowWidth, "256");
      if (Uint8* px = w.Bytes(pixels)) {
        double ps = RenderChestRadiographMono1(opt_.seed, k.patient, k.study, k.series,
                                               k.instance, rows, cols, px);
        w.Str(DCM_ImagerPixelSpacing, Ds(ps) + "\\" + Ds(ps));
        w.Str(DCM_PixelSpacing, Ds(ps) + "\\" + Ds(ps));
      }
      break;
    }
  }
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
    ss.modality = ModalityFor(opt_.kind);
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
