#include "dicom/transfer_syntax.h"

#include <dcmtk/dcmdata/dcxfer.h>

namespace strata {

bool IsUncompressedSyntax(const std::string& uid) {
  return uid == syntax::kImplicitLE || uid == syntax::kExplicitLE || uid == syntax::kExplicitBE ||
         uid == syntax::kDeflatedLE;
}

std::string SyntaxName(const std::string& uid) {
  if (uid == syntax::kHtj2kLossless) return "HTJ2K Lossless";
  DcmXfer x(uid.c_str());
  if (x.getXfer() == EXS_Unknown) return uid;
  return x.getXferName();
}

}  // namespace strata
