// The transfer syntaxes the codec module knows: which engine encodes or decodes each one,
// whether it can hold lossless data, and how DCMTK 3.6.7 (which predates HTJ2K) parses it.
// Everything here is constant data: safe to read from any thread.
#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <span>
#include <string_view>

namespace strata::codec {

namespace ts {
inline constexpr std::string_view kImplicitLE = "1.2.840.10008.1.2";
inline constexpr std::string_view kExplicitLE = "1.2.840.10008.1.2.1";
inline constexpr std::string_view kDeflatedLE = "1.2.840.10008.1.2.1.99";
inline constexpr std::string_view kExplicitBE = "1.2.840.10008.1.2.2";
inline constexpr std::string_view kJpegBaseline = "1.2.840.10008.1.2.4.50";
inline constexpr std::string_view kJpegExtended = "1.2.840.10008.1.2.4.51";
inline constexpr std::string_view kJpegLossless = "1.2.840.10008.1.2.4.57";
inline constexpr std::string_view kJpegLosslessSV1 = "1.2.840.10008.1.2.4.70";
inline constexpr std::string_view kJpegLsLossless = "1.2.840.10008.1.2.4.80";
inline constexpr std::string_view kJpegLsNearLossless = "1.2.840.10008.1.2.4.81";
inline constexpr std::string_view kJ2kLossless = "1.2.840.10008.1.2.4.90";
inline constexpr std::string_view kJ2k = "1.2.840.10008.1.2.4.91";
inline constexpr std::string_view kHtj2kLossless = "1.2.840.10008.1.2.4.201";
inline constexpr std::string_view kHtj2kLosslessRpcl = "1.2.840.10008.1.2.4.202";
inline constexpr std::string_view kHtj2k = "1.2.840.10008.1.2.4.203";
inline constexpr std::string_view kRleLossless = "1.2.840.10008.1.2.5";
}  // namespace ts

// Who turns pixel data of a syntax into native pixels and back.
enum class Engine {
  kNative,    // not encapsulated: DCMTK rewrites the byte order / VR encoding
  kDcmtk,     // DCMTK's registered codecs (dcmjpeg, dcmjpls, RLE)
  kOpenJpeg,  // JPEG 2000 Part 1, our glue over libopenjp2
  kOpenJph,   // High-Throughput JPEG 2000 (Part 15), our glue over libopenjph
};

// Whether images in the syntax are lossy.
enum class Lossiness {
  kLossless,  // always bit exact
  kLossy,     // never bit exact (JPEG baseline/extended)
  kEither,    // the syntax allows both; the Lossy Image Compression attribute says which
};

struct SyntaxInfo {
  std::string_view uid;
  std::string_view name;
  Engine engine;
  Lossiness lossiness;
  bool can_decode;  // we can turn its pixel data into native pixels
  bool can_encode;  // we can produce it (losslessly unless lossy is asked for)
  // How DCMTK parses and writes the data set. For syntaxes DCMTK 3.6.7 does not know (HTJ2K)
  // this is a stand-in with the same encoding (explicit VR little endian, encapsulated).
  E_TransferSyntax dcmtk_xfer;
  bool dcmtk_knows_uid;  // false when dcmtk_xfer is only a stand-in

  bool encapsulated() const { return engine != Engine::kNative; }
};

// The entry for `uid` (trailing NUL/space padding ignored), or nullptr for syntaxes this
// module does not handle at all.
const SyntaxInfo* FindSyntax(std::string_view uid);
// Every known syntax, in a stable order.
std::span<const SyntaxInfo> AllSyntaxes();
// "JPEG-LS lossless" etc. for logs; the UID itself when unknown.
std::string_view SyntaxDisplayName(std::string_view uid);
// Strips the trailing NUL/space padding a UI value may carry.
std::string_view TrimUidPadding(std::string_view uid);

}  // namespace strata::codec
