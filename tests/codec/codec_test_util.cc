#include "codec_test_util.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "codec/part10_io.h"
#include "codec/syntax_table.h"
#include "codec/transcoder.h"

namespace strata::codec::testing {

std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

bool WriteFileBytes(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

namespace {
// Removes the directories MakeTempDir made when the test binary exits.
struct TempDirs {
  std::vector<std::filesystem::path> dirs;
  ~TempDirs() {
    std::error_code ec;
    for (const auto& d : dirs) std::filesystem::remove_all(d, ec);
  }
};
TempDirs& Made() {
  static TempDirs made;
  return made;
}
}  // namespace

std::string MakeTempDir(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  std::filesystem::path dir = std::filesystem::path(base ? base : std::filesystem::temp_directory_path().string()) /
                              ("strata-codec-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  Made().dirs.push_back(dir);
  return dir.string();
}

Result<Samples> NativeSamples(std::string_view part10) {
  STRATA_ASSIGN_OR_RETURN(Part10File file, ReadPart10(part10));
  if (file.syntax->encapsulated()) return Status::InvalidArgument("not native: " + file.transfer_syntax);
  DcmDataset& ds = *file.file->getDataset();
  STRATA_ASSIGN_OR_RETURN(ImageInfo info, ReadImageInfo(ds));
  DcmElement* e = nullptr;
  Uint8* bytes = nullptr;
  if (ds.findAndGetElement(DCM_PixelData, e, OFFalse).bad() || e == nullptr || e->getUint8Array(bytes).bad()) {
    return Status::NotFound("no pixel data");
  }
  if (info.bits_allocated % 8 != 0) return Status::InvalidArgument("Bits Allocated not a multiple of 8");
  const size_t bps = info.bits_allocated / 8;
  const size_t total = info.frame_bytes() * info.frames;
  if (e->getLength() < total) return Status::Corruption("short pixel data");
  Samples s;
  s.info = info;
  s.raw.reserve(total / bps);
  const uint32_t spp = info.samples_per_pixel;
  for (uint32_t f = 0; f < info.frames; ++f) {
    const uint8_t* frame = bytes + f * info.frame_bytes();
    for (uint32_t y = 0; y < info.rows; ++y) {
      for (uint32_t x = 0; x < info.columns; ++x) {
        for (uint32_t c = 0; c < spp; ++c) {
          const size_t index = info.planar_configuration == 1 && spp > 1
                                   ? (size_t{c} * info.rows + y) * info.columns + x
                                   : (size_t{y} * info.columns + x) * spp + c;
          uint32_t v = 0;
          for (size_t b = 0; b < bps; ++b) v |= uint32_t{frame[index * bps + b]} << (8 * b);
          s.raw.push_back(v);
        }
      }
    }
  }
  return s;
}

Result<Samples> DecodedSamples(std::string_view part10) {
  STRATA_ASSIGN_OR_RETURN(std::string syntax, PeekTransferSyntax(part10));
  const SyntaxInfo* info = FindSyntax(syntax);
  if (info != nullptr && !info->encapsulated()) return NativeSamples(part10);
  Transcoder t;
  STRATA_ASSIGN_OR_RETURN(std::string native, t.Transcode(part10, std::string(ts::kExplicitLE)));
  return NativeSamples(native);
}

std::map<uint32_t, std::string> PrintedAttributes(DcmDataset& dataset) {
  std::map<uint32_t, std::string> out;
  for (unsigned long i = 0; i < dataset.card(); ++i) {
    DcmElement* e = dataset.getElement(i);
    const DcmTagKey key = e->getTag().getXTag();
    if (key == DCM_PixelData) continue;
    std::ostringstream text;
    e->print(text, DCMTypes::PF_doNotMapUIDsToNames);
    out[(uint32_t{key.getGroup()} << 16) | key.getElement()] = text.str();
  }
  return out;
}

Result<std::map<uint32_t, std::string>> PrintedAttributes(std::string_view part10) {
  STRATA_ASSIGN_OR_RETURN(Part10File file, ReadPart10(part10));
  return PrintedAttributes(*file.file->getDataset());
}

Result<std::vector<std::string>> PixelItems(std::string_view part10) {
  STRATA_ASSIGN_OR_RETURN(Part10File file, ReadPart10(part10));
  DcmElement* e = nullptr;
  if (file.file->getDataset()->findAndGetElement(DCM_PixelData, e, OFFalse).bad() || e == nullptr) {
    return Status::NotFound("no pixel data");
  }
  auto* pd = static_cast<DcmPixelData*>(e);
  E_TransferSyntax xfer = EXS_Unknown;
  const DcmRepresentationParameter* param = nullptr;
  pd->getOriginalRepresentationKey(xfer, param);
  DcmPixelSequence* seq = nullptr;
  if (pd->getEncapsulatedRepresentation(xfer, param, seq).bad() || seq == nullptr) {
    return Status::NotFound("pixel data not encapsulated");
  }
  std::vector<std::string> items;
  for (unsigned long i = 0; i < seq->card(); ++i) {
    DcmPixelItem* item = nullptr;
    Uint8* data = nullptr;
    if (seq->getItem(item, i).bad()) return Status::Corruption("bad item");
    if (item->getLength() > 0 && item->getUint8Array(data).bad()) return Status::Corruption("bad item value");
    items.emplace_back(reinterpret_cast<const char*>(data), item->getLength());
  }
  return items;
}

std::string GetString(std::string_view part10, uint16_t group, uint16_t element) {
  Result<Part10File> file = ReadPart10(part10);
  if (!file.ok()) return "";
  OFString v;
  if (file->file->getDataset()->findAndGetOFStringArray(DcmTagKey(group, element), v).bad()) return "";
  return v.c_str();
}

std::string MetaSyntax(std::string_view part10) {
  Result<std::string> s = PeekTransferSyntax(part10);
  return s.ok() ? *s : "";
}

int RunCommand(const std::string& command) {
  const int rc = std::system(command.c_str());
  if (rc == -1 || !WIFEXITED(rc)) return -1;
  return WEXITSTATUS(rc);
}

bool HaveProgram(const std::string& name) { return RunCommand("command -v " + name + " >/dev/null 2>&1") == 0; }

}  // namespace strata::codec::testing
