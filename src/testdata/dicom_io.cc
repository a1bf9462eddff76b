#include "testdata/dicom_io.h"

#include <cerrno>
#include <cstdio>
#include <vector>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include "dicom/transfer_syntax.h"

namespace strata::testdata {
namespace {

E_TransferSyntax ToDcmtk(OutputSyntax s) {
  switch (s) {
    case OutputSyntax::kExplicitLE:
      return EXS_LittleEndianExplicit;
    case OutputSyntax::kImplicitLE:
      return EXS_LittleEndianImplicit;
    case OutputSyntax::kDeflatedLE:
      return EXS_DeflatedLittleEndianExplicit;
    case OutputSyntax::kExplicitBE:
      return EXS_BigEndianExplicit;
  }
  return EXS_LittleEndianExplicit;
}

}  // namespace

Status FromCondition(bool good, const char* text, const std::string& context) {
  if (good) return Status::OK();
  return Status::Internal(context + ": " + (text ? text : "DCMTK error"));
}

Result<OutputSyntax> ParseOutputSyntax(const std::string& name) {
  if (name == "explicit" || name == syntax::kExplicitLE)
    return OutputSyntax::kExplicitLE;
  if (name == "implicit" || name == syntax::kImplicitLE)
    return OutputSyntax::kImplicitLE;
  if (name == "deflated" || name == syntax::kDeflatedLE)
    return OutputSyntax::kDeflatedLE;
  if (name == "big" || name == syntax::kExplicitBE)
    return OutputSyntax::kExplicitBE;
  return Status::InvalidArgument("unknown transfer syntax '" + name +
                                 "' (use explicit, implicit, deflated or big)");
}

const char* OutputSyntaxUid(OutputSyntax s) {
  switch (s) {
    case OutputSyntax::kExplicitLE:
      return syntax::kExplicitLE;
    case OutputSyntax::kImplicitLE:
      return syntax::kImplicitLE;
    case OutputSyntax::kDeflatedLE:
      return syntax::kDeflatedLE;
    case OutputSyntax::kExplicitBE:
      return syntax::kExplicitBE;
  }
  return syntax::kExplicitLE;
}

Result<uint64_t> SavePart10(DcmFileFormat& ff, const std::string& path, OutputSyntax syntax) {
  const std::string tmp = path + ".tmp";
  OFCondition cond = ff.saveFile(tmp.c_str(), ToDcmtk(syntax), EET_ExplicitLength, EGL_recalcGL,
                                 EPD_noChange, 0, 0, EWM_createNewMeta);
  if (cond.bad()) {
    std::remove(tmp.c_str());
    return Status::IOError("write " + path + ": " + cond.text());
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    return Status::FromErrno(err, "rename " + tmp);
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Status::FromErrno(errno, "open " + path);
  std::fseek(f, 0, SEEK_END);
  long size = std::ftell(f);
  std::fclose(f);
  if (size < 0) return Status::IOError("size of " + path);
  return static_cast<uint64_t>(size);
}

Result<std::string> EncodePart10(DcmFileFormat& ff, OutputSyntax syntax) {
  std::vector<char> buf(1 << 20);
  DcmOutputBufferStream out(buf.data(), buf.size());
  std::string bytes;
  ff.transferInit();
  OFCondition cond = EC_StreamNotifyClient;
  while (cond == EC_StreamNotifyClient) {
    cond = ff.write(out, ToDcmtk(syntax), EET_ExplicitLength, nullptr, EGL_recalcGL,
                    EPD_noChange, 0, 0, 0, EWM_createNewMeta);
    void* data = nullptr;
    offile_off_t len = 0;
    out.flushBuffer(data, len);
    if (len > 0) bytes.append(static_cast<const char*>(data), static_cast<size_t>(len));
  }
  ff.transferEnd();
  if (cond.bad()) return Status::Internal(std::string("encode dataset: ") + cond.text());
  // A compression filter may still hold data until the stream is flushed.
  out.flush();
  void* data = nullptr;
  offile_off_t len = 0;
  out.flushBuffer(data, len);
  if (len > 0) bytes.append(static_cast<const char*>(data), static_cast<size_t>(len));
  return bytes;
}

}  // namespace strata::testdata
