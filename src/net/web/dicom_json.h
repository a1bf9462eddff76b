// The DICOM JSON Model (PS3.18 F.2): attributes as {"GGGGEEEE": {"vr": VR, "Value": [...]}}.
// Two sources are encoded the same way: values as the catalog holds them (DICOM string form,
// backslash-separated) for QIDO-RS, and DCMTK data sets (instance headers) for /metadata.
// Encoding rules: PN -> {"Alphabetic", "Ideographic", "Phonetic"} component groups; IS, DS and
// the binary numeric VRs -> JSON numbers (a value that is not a number -> null); AT -> "GGGGEEEE";
// text is trimmed of its padding (UI of NULs); an empty value has no "Value"; SQ items are
// objects; binary VRs -> "BulkDataURI" when the caller names one (always for Pixel Data),
// otherwise "InlineBinary" (base64). Group lengths are left out. Every string is UTF-8: a data
// set in another Specific Character Set is converted first.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "model/attributes.h"

class DcmItem;

namespace strata::web {

inline constexpr Tag kPixelDataTag = MakeTag(0x7FE0, 0x0010);

// "0020000D" for (0020,000D).
std::string TagHex(Tag tag);

// {"vr": VR, "Value": [...]} from a value in DICOM string form ("" -> {"vr": VR}).
nlohmann::json ValueToJson(const std::string& vr, const std::string& text);

struct JsonEncodeOptions {
  // The BulkDataURI for a top-level binary element; "" means inline it. Called for Pixel Data
  // (whatever its size) and for other binary values larger than inline_max bytes.
  std::function<std::string(Tag)> bulk_data_uri;
  size_t inline_max = 1024;
};

// Every element of ITEM (recursively for sequences). Text is decoded to UTF-8 from the Specific
// Character Set of its item (a sequence item may carry its own), and (0008,0005) says
// ISO_IR 192. UN elements with a dictionary VR are first converted to it, in ITEM (which is
// why ITEM is not const).
nlohmann::json DatasetToJson(DcmItem& item, const JsonEncodeOptions& options = {});

// Serializes for a response: invalid UTF-8 that slipped through is replaced, never thrown.
std::string DumpJson(const nlohmann::json& j);

}  // namespace strata::web
