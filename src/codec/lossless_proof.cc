#include "codec/lossless_proof.h"

#include "codec/dcmtk_stream.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dcpixel.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "codec/image_info.h"
#include "codec/native_samples.h"
#include "codec/part10_io.h"
#include "codec/pixel_transcode.h"
#include "codec/syntax_table.h"

namespace strata::codec {
namespace {

Status Fail(const std::string& why) { return Status::Corruption(why); }

std::string TagText(const DcmTagKey& key) {
  DcmTag tag(key);
  return fmt::format("({:04X},{:04X}) {}", key.getGroup(), key.getElement(), tag.getTagName());
}

// One element as Explicit VR LE bytes with explicit lengths: a value-and-VR fingerprint that
// does not depend on how the file encoded it (implicit/explicit VR, undefined lengths).
Result<std::string> Serialize(DcmObject& obj) {
  std::string out;
  std::vector<char> buffer(64 << 10);
  DcmOutputBufferStream stream(buffer.data(), buffer.size());
  obj.transferInit();
  Status st = DrainDcmtkWrite(stream, out, [&] {
    return obj.write(stream, EXS_LittleEndianExplicit, EET_ExplicitLength, nullptr);
  });
  obj.transferEnd();
  if (!st.ok()) return Status::Internal("serializing an attribute: " + st.message());
  FlushDcmtkStream(stream, out);
  return out;
}

using Fingerprints = std::map<DcmTagKey, std::string>;

// Every top-level element of `item` except group lengths and `excluded`.
Result<Fingerprints> FingerprintsOf(DcmItem& item, const std::set<DcmTagKey>& excluded) {
  Fingerprints out;
  for (unsigned long i = 0; i < item.card(); ++i) {
    DcmElement* e = item.getElement(i);
    if (e == nullptr) continue;
    const DcmTagKey key = e->getTag();
    if (key.getElement() == 0x0000 || excluded.contains(key)) continue;
    STRATA_ASSIGN_OR_RETURN(out[key], Serialize(*e));
  }
  return out;
}

Status CompareAttributes(DcmItem& original, DcmItem& decoded, const std::set<DcmTagKey>& excluded,
                         const char* where) {
  STRATA_ASSIGN_OR_RETURN(Fingerprints a, FingerprintsOf(original, excluded));
  STRATA_ASSIGN_OR_RETURN(Fingerprints b, FingerprintsOf(decoded, excluded));
  for (const auto& [key, bytes] : a) {
    auto it = b.find(key);
    if (it == b.end()) return Fail(fmt::format("{} attribute {} is missing", where, TagText(key)));
    if (it->second != bytes) return Fail(fmt::format("{} attribute {} differs", where, TagText(key)));
  }
  for (const auto& [key, bytes] : b) {
    if (!a.contains(key)) return Fail(fmt::format("{} attribute {} was added", where, TagText(key)));
  }
  return Status::OK();
}

std::string StringOf(DcmItem& item, const DcmTagKey& key) {
  OFString v;
  if (item.findAndGetOFStringArray(key, v, OFFalse).bad()) return {};
  return v.c_str();
}

// The file meta information of `part10` (ReadPart10 keeps only what it needs of it).
Result<std::unique_ptr<DcmMetaInfo>> ReadMeta(std::string_view part10) {
  auto meta = std::make_unique<DcmMetaInfo>();
  DcmInputBufferStream in;
  in.setBuffer(part10.data(), static_cast<offile_off_t>(part10.size()));
  in.setEos();
  meta->transferInit();
  OFCondition c = meta->read(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
  meta->transferEnd();
  if (c.bad()) return Fail(std::string("meta header unreadable: ") + c.text());
  return meta;
}

// The meta header describes the file, not the instance (PS3.10 7.1), and the writer rebuilds
// it; what must hold is that it names the encoded syntax and the data set's SOP Class/Instance.
Status CheckMeta(std::string_view encoded, std::string_view encoded_syntax, DcmItem& original) {
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<DcmMetaInfo> meta, ReadMeta(encoded));
  if (TrimUidPadding(StringOf(*meta, DCM_TransferSyntaxUID)) != encoded_syntax) {
    return Fail("meta header Transfer Syntax UID is not the encoded syntax");
  }
  for (const DcmTagKey& key : {DCM_MediaStorageSOPClassUID, DCM_MediaStorageSOPInstanceUID}) {
    const DcmTagKey& data_key = key == DCM_MediaStorageSOPClassUID ? DCM_SOPClassUID : DCM_SOPInstanceUID;
    const std::string meta_value = StringOf(*meta, key), data_value = StringOf(original, data_key);
    if (TrimUidPadding(meta_value) != TrimUidPadding(data_value)) {
      return Fail(fmt::format("meta header {} is '{}', the data set says '{}'", TagText(key), meta_value, data_value));
    }
  }
  return Status::OK();
}

DcmPixelData* FindPixelData(DcmDataset& dataset) {
  DcmElement* elem = nullptr;
  if (dataset.findAndGetElement(DCM_PixelData, elem, OFFalse).bad() || elem == nullptr) return nullptr;
  if (elem->ident() != EVR_PixelData) return nullptr;
  return static_cast<DcmPixelData*>(elem);
}

Result<std::span<const uint8_t>> NativeBytes(DcmPixelData& pd, const ImageInfo& info, const char* which) {
  Uint8* data = nullptr;
  const uint64_t need = uint64_t{info.frame_bytes()} * info.frames;
  if (pd.getUint8Array(data).bad() || data == nullptr || pd.getLength() < need) {
    return Fail(fmt::format("{} pixel data holds {} bytes, the image needs {}", which, pd.getLength(), need));
  }
  return std::span<const uint8_t>(data, need);
}

Status CompareGeometry(const ImageInfo& a, const ImageInfo& b) {
  auto same = [](const char* what, uint32_t x, uint32_t y) -> Status {
    if (x == y) return Status::OK();
    return Fail(fmt::format("{} {} became {}", what, x, y));
  };
  STRATA_RETURN_IF_ERROR(same("Rows", a.rows, b.rows));
  STRATA_RETURN_IF_ERROR(same("Columns", a.columns, b.columns));
  STRATA_RETURN_IF_ERROR(same("Samples per Pixel", a.samples_per_pixel, b.samples_per_pixel));
  STRATA_RETURN_IF_ERROR(same("Bits Allocated", a.bits_allocated, b.bits_allocated));
  STRATA_RETURN_IF_ERROR(same("Bits Stored", a.bits_stored, b.bits_stored));
  STRATA_RETURN_IF_ERROR(same("High Bit", a.high_bit, b.high_bit));
  STRATA_RETURN_IF_ERROR(same("Pixel Representation", a.pixel_representation, b.pixel_representation));
  return same("Number of Frames", a.frames, b.frames);
}

// Every sample of every frame. Same layout: the bytes must be identical. Different planar
// configuration: the stored values must be, and neither side may have bits above High Bit
// (which a value comparison would not see).
Status ComparePixels(const ImageInfo& a, std::span<const uint8_t> pa, const ImageInfo& b,
                     std::span<const uint8_t> pb) {
  const size_t frame_bytes = a.frame_bytes();
  if (a.planar_configuration == b.planar_configuration || a.samples_per_pixel == 1) {
    if (std::memcmp(pa.data(), pb.data(), pa.size()) == 0) return Status::OK();
    const auto [ia, ib] = std::mismatch(pa.begin(), pa.end(), pb.begin());
    const size_t at = static_cast<size_t>(ia - pa.begin());
    return Fail(fmt::format("pixel data differs in frame {} at byte {} of {} (0x{:02x} became 0x{:02x})",
                            at / frame_bytes + 1, at % frame_bytes, frame_bytes, *ia, *ib));
  }
  STRATA_RETURN_IF_ERROR(CheckStoredBits(a, pa).WithContext("original"));
  STRATA_RETURN_IF_ERROR(CheckStoredBits(b, pb).WithContext("decoded"));
  std::vector<int32_t> ra(a.columns), rb(a.columns);
  for (uint32_t f = 0; f < a.frames; ++f) {
    const uint8_t* fa = pa.data() + f * frame_bytes;
    const uint8_t* fb = pb.data() + f * frame_bytes;
    for (uint32_t c = 0; c < a.samples_per_pixel; ++c) {
      for (uint32_t y = 0; y < a.rows; ++y) {
        LoadRow(a, fa, c, y, ra.data());
        LoadRow(b, fb, c, y, rb.data());
        if (ra == rb) continue;
        const auto [xa, xb] = std::mismatch(ra.begin(), ra.end(), rb.begin());
        return Fail(fmt::format("pixel data differs in frame {}, row {}, column {}, sample {} ({} became {})", f + 1,
                                y, xa - ra.begin(), c, *xa, *xb));
      }
    }
  }
  return Status::OK();
}

bool IsWavelet(const SyntaxInfo& s) { return s.engine == Engine::kOpenJpeg || s.engine == Engine::kOpenJph; }

// The decoder for the encoded side: OpenJPEG for HTJ2K (encoded by OpenJPH), otherwise the
// syntax's own engine.
SyntaxInfo ProofDecoder(const SyntaxInfo& encoded) {
  SyntaxInfo s = encoded;
  if (s.engine == Engine::kOpenJph) s.engine = Engine::kOpenJpeg;
  return s;
}

}  // namespace

Status ProveTranscode(std::string_view original, std::string_view encoded, ProofKind kind) {
  Result<Part10File> orig = ReadPart10(original);
  if (!orig.ok()) return Fail("original unreadable: " + orig.status().message());
  Result<Part10File> enc = ReadPart10(encoded);
  if (!enc.ok()) return Fail("encoded file unreadable: " + enc.status().message());
  const SyntaxInfo& enc_syntax = *enc->syntax;
  if (!enc_syntax.encapsulated() || !enc_syntax.can_decode) {
    return Fail(fmt::format("encoded file is in {}, not a compressed syntax we decode", enc_syntax.name));
  }
  if (kind == ProofKind::kLossless && enc_syntax.lossiness == Lossiness::kLossy) {
    return Fail(fmt::format("{} is a lossy syntax", enc_syntax.name));
  }
  DcmDataset& od = *orig->file->getDataset();
  DcmDataset& ed = *enc->file->getDataset();
  STRATA_RETURN_IF_ERROR(CheckMeta(encoded, enc_syntax.uid, od));

  if (!orig->syntax->can_decode) return Fail(fmt::format("original syntax {} cannot be decoded", orig->syntax->name));
  if (Status st = DecodePixelData(od, *orig->syntax); !st.ok()) return Fail("original: " + st.ToString());
  const std::string orig_photometric = StringOf(od, DCM_PhotometricInterpretation);
  const std::string enc_photometric = StringOf(ed, DCM_PhotometricInterpretation);
  if (enc_photometric != orig_photometric) {
    const bool rct = orig_photometric == "RGB" && IsWavelet(enc_syntax) &&
                     (enc_photometric == "YBR_RCT" || (kind == ProofKind::kLossy && enc_photometric == "YBR_ICT"));
    if (!rct) return Fail(fmt::format("Photometric Interpretation {} became {}", orig_photometric, enc_photometric));
  }
  const std::string enc_lossy = StringOf(ed, DCM_LossyImageCompression);
  if (kind == ProofKind::kLossy && enc_lossy != "01") return Fail("lossy result lacks Lossy Image Compression 01");

  if (Status st = DecodePixelData(ed, ProofDecoder(enc_syntax)); !st.ok()) {
    return Fail(fmt::format("decoding the {} result: {}", enc_syntax.name, st.ToString()));
  }

  DcmPixelData* opd = FindPixelData(od);
  DcmPixelData* epd = FindPixelData(ed);
  if ((opd == nullptr) != (epd == nullptr)) return Fail("Pixel Data appeared or disappeared");
  if (opd != nullptr) {
    Result<ImageInfo> oi = ReadImageInfo(od);
    if (!oi.ok()) return Fail("original image attributes: " + oi.status().message());
    Result<ImageInfo> ei = ReadImageInfo(ed);
    if (!ei.ok()) return Fail("decoded image attributes: " + ei.status().message());
    STRATA_RETURN_IF_ERROR(CompareGeometry(*oi, *ei));
    STRATA_ASSIGN_OR_RETURN(std::span<const uint8_t> op, NativeBytes(*opd, *oi, "original"));
    STRATA_ASSIGN_OR_RETURN(std::span<const uint8_t> ep, NativeBytes(*epd, *ei, "decoded"));
    if (kind == ProofKind::kLossless) STRATA_RETURN_IF_ERROR(ComparePixels(*oi, op, *ei, ep));
  }

  std::set<DcmTagKey> changes = {DCM_PixelData, DCM_ExtendedOffsetTable, DCM_ExtendedOffsetTableLengths,
                                 DCM_PlanarConfiguration};
  if (kind == ProofKind::kLossy) {
    changes.insert({DCM_LossyImageCompression, DCM_LossyImageCompressionRatio, DCM_LossyImageCompressionMethod});
  }
  return CompareAttributes(od, ed, changes, "data set");
}

}  // namespace strata::codec
