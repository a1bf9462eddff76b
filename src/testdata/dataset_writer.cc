#include "testdata/dataset_writer.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcvrat.h>
#include <dcmtk/dcmdata/dcvrss.h>

namespace strata::testdata {

void DsWriter::Str(const DcmTagKey& tag, const std::string& v) {
  Check(item_->putAndInsertString(tag, v.c_str()), tag);
}

void DsWriter::U16(const DcmTagKey& tag, Uint16 v) {
  Check(item_->putAndInsertUint16(tag, v), tag);
}

void DsWriter::S16(const DcmTagKey& tag, Sint16 v) {
  auto* e = new DcmSignedShort(DcmTag(tag, EVR_SS));
  OFCondition c = e->putSint16(v);
  if (c.good()) {
    c = item_->insert(e, true);
  } else {
    delete e;
  }
  Check(c, tag);
}

void DsWriter::At(const DcmTagKey& tag, const DcmTagKey& value) {
  auto* e = new DcmAttributeTag(DcmTag(tag, EVR_AT));
  OFCondition c = e->putTagVal(value);
  if (c.good()) {
    c = item_->insert(e, true);
  } else {
    delete e;
  }
  Check(c, tag);
}

Uint16* DsWriter::Words(size_t count) {
  auto* px = new DcmPixelData(DcmTag(DCM_PixelData, EVR_OW));
  Uint16* buf = nullptr;
  OFCondition c = px->createUint16Array(static_cast<Uint32>(count), buf);
  if (c.good()) c = item_->insert(px, true);
  else delete px;
  Check(c, DCM_PixelData);
  return c.good() ? buf : nullptr;
}

Uint8* DsWriter::Bytes(size_t count) {
  auto* px = new DcmPixelData(DcmTag(DCM_PixelData, EVR_OB));
  Uint8* buf = nullptr;
  size_t even = (count + 1) & ~size_t{1};
  OFCondition c = px->createUint8Array(static_cast<Uint32>(even), buf);
  if (c.good()) {
    if (even != count) buf[count] = 0;
    c = item_->insert(px, true);
  } else {
    delete px;
  }
  Check(c, DCM_PixelData);
  return c.good() ? buf : nullptr;
}

void DsWriter::Check(const OFCondition& c, const DcmTagKey& tag) {
  if (c.bad() && status_.ok()) {
    status_ = Status::Internal("set " + std::string(tag.toString().c_str()) + ": " + c.text());
  }
}

}  // namespace strata::testdata
