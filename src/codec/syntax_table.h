// The transfer syntaxes the codec module handles: for entries of the one syntax table
// (dicom/transfer_syntax.h, which gives UID, name and lossiness), which engine encodes or
// decodes each one and how DCMTK 3.6.7 (which predates HTJ2K) parses it.
// Everything here is constant once built (on first use): safe to read from any thread.
#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <span>
#include <string_view>

#include "dicom/transfer_syntax.h"

namespace strata::codec {

// The transfer syntax UIDs, from the one table (dicom/transfer_syntax.h); codec::ts is
// another name for strata::syntax.
namespace ts = ::strata::syntax;
using ::strata::Lossiness;
using ::strata::TrimUidPadding;

// Who turns pixel data of a syntax into native pixels and back.
enum class Engine {
  kNative,    // not encapsulated: DCMTK rewrites the byte order / VR encoding
  kDcmtk,     // DCMTK's registered codecs (dcmjpeg, dcmjpls, RLE)
  kOpenJpeg,  // JPEG 2000 Part 1, our glue over libopenjp2
  kOpenJph,   // High-Throughput JPEG 2000 (Part 15), our glue over libopenjph
};

struct SyntaxInfo {
  std::string_view uid;   // from the one table
  std::string_view name;  // from the one table
  Engine engine;
  Lossiness lossiness;  // from the one table
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
// SyntaxName (the one table's name, or the UID itself when unknown) without a copy.
std::string_view SyntaxDisplayName(std::string_view uid);

}  // namespace strata::codec
