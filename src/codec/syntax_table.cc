#include "codec/syntax_table.h"

#include <array>

namespace strata::codec {
namespace {

constexpr std::array<SyntaxInfo, 16> kSyntaxes = {{
    {ts::kExplicitLE, "Explicit VR Little Endian", Engine::kNative, Lossiness::kLossless, true, true,
     EXS_LittleEndianExplicit, true},
    {ts::kImplicitLE, "Implicit VR Little Endian", Engine::kNative, Lossiness::kLossless, true, true,
     EXS_LittleEndianImplicit, true},
    {ts::kDeflatedLE, "Deflated Explicit VR Little Endian", Engine::kNative, Lossiness::kLossless, true,
     true, EXS_DeflatedLittleEndianExplicit, true},
    // Retired; read (modalities still send it) but never produced.
    {ts::kExplicitBE, "Explicit VR Big Endian", Engine::kNative, Lossiness::kLossless, true, false,
     EXS_BigEndianExplicit, true},
    {ts::kJpegBaseline, "JPEG baseline", Engine::kDcmtk, Lossiness::kLossy, true, false,
     EXS_JPEGProcess1, true},
    {ts::kJpegExtended, "JPEG extended", Engine::kDcmtk, Lossiness::kLossy, true, false,
     EXS_JPEGProcess2_4, true},
    {ts::kJpegLossless, "JPEG lossless", Engine::kDcmtk, Lossiness::kLossless, true, false,
     EXS_JPEGProcess14, true},
    {ts::kJpegLosslessSV1, "JPEG lossless SV1", Engine::kDcmtk, Lossiness::kLossless, true, false,
     EXS_JPEGProcess14SV1, true},
    {ts::kRleLossless, "RLE lossless", Engine::kDcmtk, Lossiness::kLossless, true, false,
     EXS_RLELossless, true},
    {ts::kJpegLsLossless, "JPEG-LS lossless", Engine::kDcmtk, Lossiness::kLossless, true, true,
     EXS_JPEGLSLossless, true},
    {ts::kJpegLsNearLossless, "JPEG-LS near-lossless", Engine::kDcmtk, Lossiness::kEither, true, true,
     EXS_JPEGLSLossy, true},
    {ts::kJ2kLossless, "JPEG 2000 lossless", Engine::kOpenJpeg, Lossiness::kLossless, true, true,
     EXS_JPEG2000LosslessOnly, true},
    {ts::kJ2k, "JPEG 2000", Engine::kOpenJpeg, Lossiness::kEither, true, true, EXS_JPEG2000, true},
    {ts::kHtj2kLossless, "HTJ2K lossless", Engine::kOpenJph, Lossiness::kLossless, true, true,
     EXS_JPEG2000LosslessOnly, false},
    {ts::kHtj2kLosslessRpcl, "HTJ2K lossless RPCL", Engine::kOpenJph, Lossiness::kLossless, true, true,
     EXS_JPEG2000LosslessOnly, false},
    {ts::kHtj2k, "HTJ2K", Engine::kOpenJph, Lossiness::kEither, true, true, EXS_JPEG2000, false},
}};

}  // namespace

std::string_view TrimUidPadding(std::string_view uid) {
  while (!uid.empty() && (uid.back() == '\0' || uid.back() == ' ')) uid.remove_suffix(1);
  return uid;
}

const SyntaxInfo* FindSyntax(std::string_view uid) {
  uid = TrimUidPadding(uid);
  for (const SyntaxInfo& s : kSyntaxes) {
    if (s.uid == uid) return &s;
  }
  return nullptr;
}

std::span<const SyntaxInfo> AllSyntaxes() { return kSyntaxes; }

std::string_view SyntaxDisplayName(std::string_view uid) {
  const SyntaxInfo* s = FindSyntax(uid);
  return s ? s->name : TrimUidPadding(uid);
}

}  // namespace strata::codec
