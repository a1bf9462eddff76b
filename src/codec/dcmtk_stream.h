// Writing DCMTK objects into a std::string through DCMTK's fixed-size output buffer stream:
// the one place that knows DCMTK's "buffer full, drain me" protocol.
#pragma once

#include <dcmtk/dcmdata/dcerror.h>
#include <dcmtk/dcmdata/dcostrmb.h>

#include <string>

#include "util/status.h"

namespace strata::codec {

// Runs WRITE (a DCMTK write into STREAM) until it completes, appending what it produced to
// OUT each time DCMTK asks for the buffer to be drained. The caller brackets it with
// transferInit()/transferEnd() of the object written.
template <typename WriteFn>
Status DrainDcmtkWrite(DcmOutputBufferStream& stream, std::string& out, WriteFn write) {
  OFCondition c = EC_StreamNotifyClient;
  while (c == EC_StreamNotifyClient) {
    c = write();
    void* data = nullptr;
    offile_off_t n = 0;
    stream.flushBuffer(data, n);
    if (n > 0) out.append(static_cast<const char*>(data), static_cast<size_t>(n));
  }
  if (c.bad()) return Status::Internal(std::string("DCMTK write: ") + c.text());
  return Status::OK();
}

// Flushes what STREAM still holds into OUT (after the last write).
inline void FlushDcmtkStream(DcmOutputBufferStream& stream, std::string& out) {
  stream.flush();
  void* data = nullptr;
  offile_off_t n = 0;
  stream.flushBuffer(data, n);
  if (n > 0) out.append(static_cast<const char*>(data), static_cast<size_t>(n));
}

}  // namespace strata::codec
