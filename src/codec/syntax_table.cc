#include "codec/syntax_table.h"

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace strata::codec {
namespace {

// The codec's part of each entry, keyed by the one table's UID.
struct CodecEntry {
  const char* uid;
  Engine engine;
  bool can_decode;
  bool can_encode;
  E_TransferSyntax dcmtk_xfer;
  bool dcmtk_knows_uid;
};

constexpr CodecEntry kCodecEntries[] = {
    {ts::kExplicitLE, Engine::kNative, true, true, EXS_LittleEndianExplicit, true},
    {ts::kImplicitLE, Engine::kNative, true, true, EXS_LittleEndianImplicit, true},
    {ts::kDeflatedLE, Engine::kNative, true, true, EXS_DeflatedLittleEndianExplicit, true},
    // Retired; read (modalities still send it) but never produced.
    {ts::kExplicitBE, Engine::kNative, true, false, EXS_BigEndianExplicit, true},
    {ts::kJpegBaseline, Engine::kDcmtk, true, false, EXS_JPEGProcess1, true},
    {ts::kJpegExtended, Engine::kDcmtk, true, false, EXS_JPEGProcess2_4, true},
    {ts::kJpegLossless, Engine::kDcmtk, true, false, EXS_JPEGProcess14, true},
    {ts::kJpegLosslessSV1, Engine::kDcmtk, true, false, EXS_JPEGProcess14SV1, true},
    {ts::kRleLossless, Engine::kDcmtk, true, false, EXS_RLELossless, true},
    {ts::kJpegLsLossless, Engine::kDcmtk, true, true, EXS_JPEGLSLossless, true},
    {ts::kJpegLsNearLossless, Engine::kDcmtk, true, true, EXS_JPEGLSLossy, true},
    {ts::kJ2kLossless, Engine::kOpenJpeg, true, true, EXS_JPEG2000LosslessOnly, true},
    {ts::kJ2k, Engine::kOpenJpeg, true, true, EXS_JPEG2000, true},
    // DCMTK 3.6.7 does not know HTJ2K: stand-ins with the same data set encoding.
    {ts::kHtj2kLossless, Engine::kOpenJph, true, true, EXS_JPEG2000LosslessOnly, false},
    {ts::kHtj2kLosslessRpcl, Engine::kOpenJph, true, true, EXS_JPEG2000LosslessOnly, false},
    {ts::kHtj2k, Engine::kOpenJph, true, true, EXS_JPEG2000, false},
};

const std::vector<SyntaxInfo>& Table() {
  static const std::vector<SyntaxInfo> table = [] {
    std::vector<SyntaxInfo> out;
    for (const CodecEntry& e : kCodecEntries) {
      const TransferSyntax* t = FindTransferSyntax(e.uid);
      if (t == nullptr) {  // a programming error, caught by every codec test
        std::fprintf(stderr, "codec syntax %s is not in the transfer syntax table\n", e.uid);
        std::abort();
      }
      out.push_back({t->uid, t->name, e.engine, t->lossiness, e.can_decode, e.can_encode, e.dcmtk_xfer,
                     e.dcmtk_knows_uid});
    }
    return out;
  }();
  return table;
}

}  // namespace

const SyntaxInfo* FindSyntax(std::string_view uid) {
  uid = TrimUidPadding(uid);
  for (const SyntaxInfo& s : Table()) {
    if (s.uid == uid) return &s;
  }
  return nullptr;
}

std::span<const SyntaxInfo> AllSyntaxes() { return Table(); }

std::string_view SyntaxDisplayName(std::string_view uid) {
  const TransferSyntax* t = FindTransferSyntax(uid);
  return t ? t->name : TrimUidPadding(uid);
}

}  // namespace strata::codec
