#include "dicom/transfer_syntax.h"

#include <array>

namespace strata {
namespace {

using F = PixelFamily;
using L = Lossiness;
namespace s = syntax;

// uid, name, family, lossiness, explicit VR, big endian, deflated.
constexpr std::array<TransferSyntax, 20> kTable = {{
    {s::kExplicitLE, "Explicit VR Little Endian", F::kNative, L::kLossless, true, false, false},
    {s::kImplicitLE, "Implicit VR Little Endian", F::kNative, L::kLossless, false, false, false},
    {s::kDeflatedLE, "Deflated Explicit VR Little Endian", F::kNative, L::kLossless, true, false, true},
    {s::kExplicitBE, "Explicit VR Big Endian", F::kNative, L::kLossless, true, true, false},  // retired
    {s::kJpegBaseline, "JPEG baseline", F::kJpeg, L::kLossy, true, false, false},
    {s::kJpegExtended, "JPEG extended", F::kJpeg, L::kLossy, true, false, false},
    {s::kJpegLossless, "JPEG lossless", F::kJpeg, L::kLossless, true, false, false},
    {s::kJpegLosslessSV1, "JPEG lossless SV1", F::kJpeg, L::kLossless, true, false, false},
    {s::kRleLossless, "RLE lossless", F::kRle, L::kLossless, true, false, false},
    {s::kJpegLsLossless, "JPEG-LS lossless", F::kJpegLs, L::kLossless, true, false, false},
    {s::kJpegLsNearLossless, "JPEG-LS near-lossless", F::kJpegLs, L::kEither, true, false, false},
    {s::kJ2kLossless, "JPEG 2000 lossless", F::kJ2k, L::kLossless, true, false, false},
    {s::kJ2k, "JPEG 2000", F::kJ2k, L::kEither, true, false, false},
    {s::kJ2kMcLossless, "JPEG 2000 Part 2 multi-component lossless", F::kJ2k, L::kLossless, true, false, false},
    {s::kJ2kMc, "JPEG 2000 Part 2 multi-component", F::kJ2k, L::kEither, true, false, false},
    {s::kJpipReferenced, "JPIP referenced", F::kReferenced, L::kEither, true, false, false},
    {s::kJpipReferencedDeflate, "JPIP referenced deflate", F::kReferenced, L::kEither, true, false, true},
    {s::kHtj2kLossless, "HTJ2K lossless", F::kJ2k, L::kLossless, true, false, false},
    {s::kHtj2kLosslessRpcl, "HTJ2K lossless RPCL", F::kJ2k, L::kLossless, true, false, false},
    {s::kHtj2k, "HTJ2K", F::kJ2k, L::kEither, true, false, false},
}};

}  // namespace

std::string_view TrimUidPadding(std::string_view uid) {
  while (!uid.empty() && (uid.back() == '\0' || uid.back() == ' ')) uid.remove_suffix(1);
  return uid;
}

const TransferSyntax* FindTransferSyntax(std::string_view uid) {
  uid = TrimUidPadding(uid);
  for (const TransferSyntax& t : kTable) {
    if (t.uid == uid) return &t;
  }
  return nullptr;
}

std::span<const TransferSyntax> AllTransferSyntaxes() { return kTable; }

PixelFamily PixelFamilyOf(std::string_view uid) {
  if (const TransferSyntax* t = FindTransferSyntax(uid)) return t->family;
  uid = TrimUidPadding(uid);
  if (uid.substr(0, syntax::kJpegFamilyRoot.size()) != syntax::kJpegFamilyRoot) return PixelFamily::kUnknown;
  int n = 0;
  for (char c : uid.substr(syntax::kJpegFamilyRoot.size()))
    n = (c >= '0' && c <= '9' && n < 1000) ? n * 10 + (c - '0') : 1000;
  if (n >= 50 && n <= 70) return PixelFamily::kJpeg;  // the retired JPEG processes
  return PixelFamily::kOtherEncapsulated;             // MPEG, HEVC, JPEG XL ...
}

bool IsUncompressedSyntax(std::string_view uid) {
  const TransferSyntax* t = FindTransferSyntax(uid);
  return t != nullptr && t->family == PixelFamily::kNative;
}

std::string SyntaxName(std::string_view uid) {
  const TransferSyntax* t = FindTransferSyntax(uid);
  return std::string(t ? t->name : TrimUidPadding(uid));
}

}  // namespace strata
