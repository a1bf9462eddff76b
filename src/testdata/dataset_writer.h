// DsWriter: fills a DCMTK item attribute by attribute and keeps the first failure, so a
// builder can put dozens of attributes and check once at the end. An attribute put twice
// keeps the last value; DCMTK keeps the item in tag order whatever the order of the puts.
// Not thread-safe (one writer per data set).
#pragma once

#include <cstddef>
#include <string>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcitem.h>

#include "util/status.h"

namespace strata::testdata {

class DsWriter {
 public:
  explicit DsWriter(DcmItem* item) : item_(item) {}

  void Str(const DcmTagKey& tag, const std::string& v);
  void U16(const DcmTagKey& tag, Uint16 v);
  void S16(const DcmTagKey& tag, Sint16 v);
  void At(const DcmTagKey& tag, const DcmTagKey& value);
  // Pixel data (OW) of COUNT 16-bit words; returns the buffer to fill, nullptr on failure.
  Uint16* Words(size_t count);
  // Pixel data (OB) of COUNT bytes, padded to even length with a zero byte; returns the
  // buffer to fill, nullptr on failure.
  Uint8* Bytes(size_t count);

  // OK, or the first failure ("set (gggg,eeee): why").
  const Status& status() const { return status_; }

 private:
  void Check(const OFCondition& c, const DcmTagKey& tag);

  DcmItem* item_;
  Status status_;
};

}  // namespace strata::testdata
