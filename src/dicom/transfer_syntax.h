// The transfer syntaxes Strata knows, in one table: their UIDs (the only place a transfer
// syntax UID is spelled), names, how a data set in each is encoded (VR, byte order, deflate)
// and how its Pixel Data is held. Every module uses these constants and lookups; the codec
// module adds, per entry, which engine handles it and how DCMTK parses it
// (codec/syntax_table.h). No DCMTK types here. Constant data: safe from any thread.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace strata {

namespace syntax {
inline constexpr const char* kImplicitLE = "1.2.840.10008.1.2";
inline constexpr const char* kExplicitLE = "1.2.840.10008.1.2.1";
inline constexpr const char* kDeflatedLE = "1.2.840.10008.1.2.1.99";
inline constexpr const char* kExplicitBE = "1.2.840.10008.1.2.2";
inline constexpr const char* kJpegBaseline = "1.2.840.10008.1.2.4.50";
inline constexpr const char* kJpegExtended = "1.2.840.10008.1.2.4.51";
inline constexpr const char* kJpegLossless = "1.2.840.10008.1.2.4.57";
inline constexpr const char* kJpegLosslessSV1 = "1.2.840.10008.1.2.4.70";
inline constexpr const char* kJpegLsLossless = "1.2.840.10008.1.2.4.80";
inline constexpr const char* kJpegLsNearLossless = "1.2.840.10008.1.2.4.81";
inline constexpr const char* kJ2kLossless = "1.2.840.10008.1.2.4.90";
inline constexpr const char* kJ2k = "1.2.840.10008.1.2.4.91";
inline constexpr const char* kJ2kMcLossless = "1.2.840.10008.1.2.4.92";  // Part 2 multi-component
inline constexpr const char* kJ2kMc = "1.2.840.10008.1.2.4.93";
inline constexpr const char* kJpipReferenced = "1.2.840.10008.1.2.4.94";
inline constexpr const char* kJpipReferencedDeflate = "1.2.840.10008.1.2.4.95";
inline constexpr const char* kHtj2kLossless = "1.2.840.10008.1.2.4.201";
inline constexpr const char* kHtj2kLosslessRpcl = "1.2.840.10008.1.2.4.202";
inline constexpr const char* kHtj2k = "1.2.840.10008.1.2.4.203";
inline constexpr const char* kRleLossless = "1.2.840.10008.1.2.5";
// The root of the JPEG family of UIDs (1.2.840.10008.1.2.4.N): JPEG, JPEG-LS, JPEG 2000,
// JPIP, MPEG, HEVC, JPEG XL, HTJ2K.
inline constexpr std::string_view kJpegFamilyRoot = "1.2.840.10008.1.2.4.";
}  // namespace syntax

// How a syntax holds Pixel Data.
enum class PixelFamily {
  kNative,             // not encapsulated
  kJpeg,               // JPEG (ITU T.81) baseline, extended, lossless (incl. retired 1.2.4.50-70)
  kJpegLs,
  kJ2k,                // JPEG 2000 and HTJ2K codestreams (or JP2 files)
  kRle,
  kOtherEncapsulated,  // MPEG, HEVC, JPEG XL ...: encapsulated, stream not inspected
  kReferenced,         // JPIP: the pixels are referenced, not held
  kUnknown,            // private syntaxes: no opinion
};

// Whether images in the syntax are lossy.
enum class Lossiness {
  kLossless,  // always bit exact
  kLossy,     // never bit exact (JPEG baseline/extended)
  kEither,    // the syntax allows both; the Lossy Image Compression attribute says which
};

struct TransferSyntax {
  std::string_view uid;
  std::string_view name;  // for logs, errors and the web page
  PixelFamily family;
  Lossiness lossiness;
  bool explicit_vr;  // else implicit VR
  bool big_endian;
  bool deflated;     // the data set after the meta group is a deflate stream

  bool encapsulated() const { return family != PixelFamily::kNative && family != PixelFamily::kReferenced; }
};

// Strips the trailing NUL/space padding a UI value may carry.
std::string_view TrimUidPadding(std::string_view uid);
// The entry for UID (padding ignored), or nullptr for a syntax not in the table.
const TransferSyntax* FindTransferSyntax(std::string_view uid);
// Every entry, in a stable order (the native syntaxes first).
std::span<const TransferSyntax> AllTransferSyntaxes();

// The entry's family; for a UID not in the table, the family its UID root implies
// (1.2.840.10008.1.2.4.50-70 JPEG, other 1.2.840.10008.1.2.4.N encapsulated), else kUnknown.
PixelFamily PixelFamilyOf(std::string_view uid);

// True for the three native (unencapsulated) syntaxes; deflate counts as native too,
// since it can be converted to the others without a pixel codec.
bool IsUncompressedSyntax(std::string_view uid);
// The table's name for UID ("JPEG-LS lossless", "Explicit VR Little Endian", ...); the UID
// itself (padding stripped) when it is not in the table.
std::string SyntaxName(std::string_view uid);

}  // namespace strata
