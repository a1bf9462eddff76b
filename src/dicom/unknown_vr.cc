#include "dicom/unknown_vr.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcelem.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcvr.h>

#include <cstring>
#include <memory>
#include <vector>

namespace strata {
namespace {

bool IsStringVr(DcmEVR vr) {
  switch (vr) {
    case EVR_AE: case EVR_AS: case EVR_CS: case EVR_DA: case EVR_DS: case EVR_DT: case EVR_IS: case EVR_LO:
    case EVR_LT: case EVR_PN: case EVR_SH: case EVR_ST: case EVR_TM: case EVR_UC: case EVR_UI: case EVR_UR:
    case EVR_UT:
      return true;
    default:
      return false;
  }
}

size_t NumberSize(DcmEVR vr) {
  switch (vr) {
    case EVR_US: case EVR_SS: return 2;
    case EVR_UL: case EVR_SL: case EVR_FL: return 4;
    case EVR_FD: return 8;
    default: return 0;
  }
}

// The element VALUE (raw bytes, little endian) would be under TAG's dictionary VR, or null.
DcmElement* Reread(const DcmTag& tag, const Uint8* value, Uint32 length) {
  const DcmEVR vr = tag.getEVR();
  DcmElement* el = DcmItem::newDicomElement(tag.getXTag());
  if (el == nullptr || el->ident() != vr) {
    delete el;
    return nullptr;
  }
  OFCondition c = EC_IllegalCall;
  if (IsStringVr(vr)) {
    c = el->putString(reinterpret_cast<const char*>(value), length);
  } else if (const size_t n = NumberSize(vr); n != 0 && length % n == 0 && gLocalByteOrder == EBO_LittleEndian) {
    const unsigned long count = length / n;
    std::vector<Uint8> copy(value, value + length);  // aligned for the typed views below
    if (count == 0) c = EC_Normal;
    else if (vr == EVR_US) c = el->putUint16Array(reinterpret_cast<const Uint16*>(copy.data()), count);
    else if (vr == EVR_SS) c = el->putSint16Array(reinterpret_cast<const Sint16*>(copy.data()), count);
    else if (vr == EVR_UL) c = el->putUint32Array(reinterpret_cast<const Uint32*>(copy.data()), count);
    else if (vr == EVR_SL) c = el->putSint32Array(reinterpret_cast<const Sint32*>(copy.data()), count);
    else if (vr == EVR_FL) c = el->putFloat32Array(reinterpret_cast<const Float32*>(copy.data()), count);
    else if (vr == EVR_FD) c = el->putFloat64Array(reinterpret_cast<const Float64*>(copy.data()), count);
  }
  if (c.bad()) {
    delete el;
    return nullptr;
  }
  return el;
}

}  // namespace

int ResolveUnknownVrs(DcmItem* item) {
  int converted = 0;
  std::vector<DcmElement*> replace;
  for (unsigned long i = 0; i < item->card(); ++i) {
    DcmElement* el = item->getElement(i);
    if (el == nullptr) continue;
    if (el->ident() == EVR_SQ) {
      auto* sq = static_cast<DcmSequenceOfItems*>(el);
      for (unsigned long k = 0; k < sq->card(); ++k) converted += ResolveUnknownVrs(sq->getItem(k));
      continue;
    }
    if (el->ident() != EVR_UN || el->getLengthField() == DCM_UndefinedLength) continue;
    const DcmTag dict(el->getTag().getXTag());
    const DcmEVR vr = dict.getEVR();
    if (vr == EVR_UN || vr == EVR_UNKNOWN || (!IsStringVr(vr) && NumberSize(vr) == 0)) continue;
    Uint8* value = nullptr;
    const Uint32 length = el->getLength();
    if (length > 0 && (el->getUint8Array(value).bad() || value == nullptr)) continue;
    static const Uint8 kEmpty = 0;
    if (DcmElement* fresh = Reread(dict, length > 0 ? value : &kEmpty, length)) replace.push_back(fresh);
  }
  for (DcmElement* fresh : replace) {
    if (item->insert(fresh, OFTrue /*replace the UN element*/).good()) ++converted;
    else delete fresh;
  }
  return converted;
}

}  // namespace strata
