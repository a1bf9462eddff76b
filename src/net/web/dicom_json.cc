#include "net/web/dicom_json.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcelem.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcvr.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "dicom/charset.h"
#include "dicom/unknown_vr.h"

namespace strata::web {
namespace {

using nlohmann::json;

bool IsSingleValuedText(const std::string& vr) { return vr == "LT" || vr == "ST" || vr == "UT" || vr == "UR"; }

std::string TrimRight(std::string s, const char* chars) {
  const size_t end = s.find_last_not_of(chars);
  s.erase(end == std::string::npos ? 0 : end + 1);
  return s;
}

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \0", 0, 2);
  if (b == std::string::npos) return {};
  const size_t e = s.find_last_not_of(" \0", std::string::npos, 2);
  return s.substr(b, e - b + 1);
}

std::vector<std::string> SplitValues(const std::string& vr, const std::string& text) {
  std::vector<std::string> out;
  if (IsSingleValuedText(vr)) {
    out.push_back(text);
    return out;
  }
  size_t start = 0;
  for (;;) {
    const size_t p = text.find('\\', start);
    out.push_back(text.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return out;
}

std::string TrimValue(const std::string& vr, const std::string& v) {
  if (vr == "UI") return TrimRight(Trim(v), std::string(" \0", 2).c_str());
  if (IsSingleValuedText(vr)) return TrimRight(TrimRight(v, std::string("\0", 1).c_str()), " ");
  return Trim(v);
}

json PersonName(const std::string& v) {
  static const char* kGroups[] = {"Alphabetic", "Ideographic", "Phonetic"};
  json o = json::object();
  size_t start = 0;
  for (int g = 0; g < 3; ++g) {
    const size_t p = v.find('=', start);
    std::string part = TrimRight(v.substr(start, p == std::string::npos ? std::string::npos : p - start), " ");
    if (!part.empty()) o[kGroups[g]] = part;
    if (p == std::string::npos) break;
    start = p + 1;
  }
  if (o.empty()) return nullptr;
  return o;
}

json IntegerString(const std::string& v) {
  if (v.empty()) return nullptr;
  errno = 0;
  char* end = nullptr;
  const long long n = std::strtoll(v.c_str(), &end, 10);
  if (errno != 0 || end == v.c_str() || *end != '\0') return nullptr;
  return static_cast<int64_t>(n);
}

json DecimalString(const std::string& v) {
  if (v.empty()) return nullptr;
  if (v.find_first_of(".eE") == std::string::npos) {
    json i = IntegerString(v);
    if (!i.is_null()) return i;
  }
  errno = 0;
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (errno != 0 || end == v.c_str() || *end != '\0' || !std::isfinite(d)) return nullptr;
  return d;
}

json StringValue(const std::string& vr, const std::string& raw) {
  const std::string v = TrimValue(vr, raw);
  if (vr == "PN") return PersonName(v);
  if (vr == "IS" || vr == "US" || vr == "SS" || vr == "UL" || vr == "SL" || vr == "UV" || vr == "SV")
    return IntegerString(v);
  if (vr == "DS" || vr == "FL" || vr == "FD") return DecimalString(v);
  return v;
}

std::string Base64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t n = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i < in.size()) {
    uint32_t n = uint32_t(uint8_t(in[i])) << 16;
    if (i + 1 < in.size()) n |= uint32_t(uint8_t(in[i + 1])) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool IsBinaryVr(DcmEVR evr) {
  switch (evr) {
    case EVR_OB: case EVR_OW: case EVR_OF: case EVR_OD: case EVR_OL: case EVR_OV: case EVR_UN: case EVR_ox:
    case EVR_px: case EVR_pixelSQ: case EVR_PixelData: case EVR_OverlayData: case EVR_UNKNOWN: case EVR_UNKNOWN2B:
      return true;
    default:
      return false;
  }
}

template <typename T, typename Get>
json Numbers(DcmElement* el, Get get) {
  json values = json::array();
  const unsigned long vm = el->getVM();
  for (unsigned long i = 0; i < vm; ++i) {
    T v{};
    if (get(el, v, i).bad()) {
      values.push_back(nullptr);
    } else if constexpr (std::is_floating_point_v<T>) {
      if (std::isfinite(static_cast<double>(v))) values.push_back(static_cast<double>(v));
      else values.push_back(nullptr);
    } else {
      values.push_back(v);
    }
  }
  return values;
}

json ElementToJson(DcmElement* el, const JsonEncodeOptions& options, bool top_level, const CharsetDecoder& text);

// An item with its own Specific Character Set decodes with it (PS3.5 6.1.2.5.1 ... C.12.1.1.2);
// the others inherit the enclosing data set's.
json ItemToJson(DcmItem& item, const JsonEncodeOptions& options, bool top_level, const CharsetDecoder& inherited) {
  const CharsetDecoder* text = &inherited;
  CharsetDecoder own;
  OFString charset;
  const bool has_own = item.findAndGetOFStringArray(DCM_SpecificCharacterSet, charset).good();
  if (has_own) {
    own = CharsetDecoder(std::string_view(charset.c_str(), charset.length()));
    text = &own;
  }
  json out = json::object();
  for (unsigned long i = 0; i < item.card(); ++i) {
    DcmElement* el = item.getElement(i);
    if (el == nullptr) continue;
    const DcmTagKey key = el->getTag().getXTag();
    if (key.getElement() == 0x0000) continue;  // group lengths are not part of the model
    out[TagHex(MakeTag(key.getGroup(), key.getElement()))] = ElementToJson(el, options, top_level, *text);
  }
  // Every string of the model is UTF-8 now (PS3.18 F.2).
  if (has_own) out[TagHex(tags::kSpecificCharacterSet)] = {{"vr", "CS"}, {"Value", {"ISO_IR 192"}}};
  return out;
}

json ElementToJson(DcmElement* el, const JsonEncodeOptions& options, bool top_level, const CharsetDecoder& text) {
  const DcmTagKey key = el->getTag().getXTag();
  const Tag tag = MakeTag(key.getGroup(), key.getElement());
  const DcmEVR evr = el->ident();
  std::string vr = DcmVR(el->getTag().getEVR()).getValidVRName();
  if (tag == kPixelDataTag) vr = (vr == "OW") ? "OW" : "OB";
  json out = json::object();
  out["vr"] = vr;

  if (evr == EVR_SQ) {
    auto* sq = static_cast<DcmSequenceOfItems*>(el);
    if (sq->card() == 0) return out;
    json items = json::array();
    for (unsigned long i = 0; i < sq->card(); ++i) items.push_back(ItemToJson(*sq->getItem(i), options, false, text));
    out["Value"] = std::move(items);
    return out;
  }

  if (IsBinaryVr(evr) || vr == "OB" || vr == "OW" || vr == "OF" || vr == "OD" || vr == "OL" || vr == "OV" ||
      vr == "UN") {
    const Uint32 length = el->getLengthField();
    const bool pixel_data = tag == kPixelDataTag;
    if (top_level && options.bulk_data_uri && (pixel_data || length > options.inline_max)) {
      std::string uri = options.bulk_data_uri(tag);
      if (!uri.empty()) {
        out["BulkDataURI"] = std::move(uri);
        return out;
      }
    }
    if (length == 0 || length == DCM_UndefinedLength) return out;  // encapsulated data is never inlined
    std::string raw(length, '\0');
    if (el->getPartialValue(raw.data(), 0, length, nullptr, EBO_LittleEndian).good())
      out["InlineBinary"] = Base64(raw);
    return out;
  }

  json values;
  switch (evr) {
    case EVR_US:
      values = Numbers<Uint16>(el, [](DcmElement* e, Uint16& v, unsigned long i) { return e->getUint16(v, i); });
      break;
    case EVR_SS:
      values = Numbers<Sint16>(el, [](DcmElement* e, Sint16& v, unsigned long i) { return e->getSint16(v, i); });
      break;
    case EVR_UL:
      values = Numbers<Uint32>(el, [](DcmElement* e, Uint32& v, unsigned long i) { return e->getUint32(v, i); });
      break;
    case EVR_SL:
      values = Numbers<Sint32>(el, [](DcmElement* e, Sint32& v, unsigned long i) { return e->getSint32(v, i); });
      break;
    case EVR_UV:
      values = Numbers<Uint64>(el, [](DcmElement* e, Uint64& v, unsigned long i) { return e->getUint64(v, i); });
      break;
    case EVR_SV:
      values = Numbers<Sint64>(el, [](DcmElement* e, Sint64& v, unsigned long i) { return e->getSint64(v, i); });
      break;
    case EVR_FL:
      values = Numbers<Float32>(el, [](DcmElement* e, Float32& v, unsigned long i) { return e->getFloat32(v, i); });
      break;
    case EVR_FD:
      values = Numbers<Float64>(el, [](DcmElement* e, Float64& v, unsigned long i) { return e->getFloat64(v, i); });
      break;
    case EVR_AT: {
      values = json::array();
      for (unsigned long i = 0; i < el->getVM(); ++i) {
        DcmTagKey t;
        if (el->getTagVal(t, i).good()) values.push_back(TagHex(MakeTag(t.getGroup(), t.getElement())));
        else values.push_back(nullptr);
      }
      break;
    }
    default: {
      OFString s;
      if (el->getLength() == 0 || el->getOFStringArray(s, OFFalse).bad()) return out;
      json v = ValueToJson(vr, text.Decode(std::string_view(s.c_str(), s.length()), TextKindOfVr(vr)));
      if (v.contains("Value")) values = std::move(v["Value"]);
      break;
    }
  }
  if (values.is_array() && !values.empty()) out["Value"] = std::move(values);
  return out;
}

}  // namespace

std::string TagHex(Tag tag) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08X", tag);
  return buf;
}

nlohmann::json ValueToJson(const std::string& vr, const std::string& text) {
  json out = json::object();
  out["vr"] = vr;
  if (text.empty()) return out;
  json values = json::array();
  bool any = false;
  for (const auto& v : SplitValues(vr, text)) {
    json j = StringValue(vr, v);
    if (!j.is_null() && !(j.is_string() && j.get_ref<const std::string&>().empty())) any = true;
    if (j.is_string() && j.get_ref<const std::string&>().empty()) j = nullptr;
    values.push_back(std::move(j));
  }
  if (any) out["Value"] = std::move(values);
  return out;
}

nlohmann::json DatasetToJson(DcmItem& item, const JsonEncodeOptions& options) {
  ResolveUnknownVrs(&item);
  return ItemToJson(item, options, true, CharsetDecoder());
}

std::string DumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace strata::web
