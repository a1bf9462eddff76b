#include "codec/part10_io.h"

#include "codec/dcmtk_stream.h"
#include "util/little_endian.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcostrmb.h>

#include <fmt/format.h>

#include <cctype>
#include <cstring>
#include <vector>

namespace strata::codec {
namespace {

constexpr size_t kPreamble = 128;
constexpr size_t kMetaStart = kPreamble + 4;

struct MetaScan {
  size_t dataset_offset = 0;  // first byte after the group 0002 elements
  std::string transfer_syntax;
};

// Walks the group 0002 elements (always explicit VR little endian, PS3.10 7.1).
Result<MetaScan> ScanMeta(std::string_view b) {
  if (b.size() < kMetaStart + 8 || b.substr(kPreamble, 4) != "DICM") {
    return Status::InvalidArgument("not a DICOM Part 10 file (no preamble and DICM prefix)");
  }
  MetaScan scan;
  size_t pos = kMetaStart;
  bool have_ts = false;
  while (pos + 8 <= b.size()) {
    const char* p = b.data() + pos;
    const uint16_t group = Le16(p);
    if (group != 0x0002) break;
    const uint16_t element = Le16(p + 2);
    const std::string_view vr(p + 4, 2);
    if (!std::isupper(static_cast<unsigned char>(vr[0])) || !std::isupper(static_cast<unsigned char>(vr[1]))) {
      return Status::InvalidArgument("file meta information is not explicit VR little endian");
    }
    size_t header = 8;
    uint64_t length;
    if (vr == "OB" || vr == "OW" || vr == "OF" || vr == "OD" || vr == "OL" || vr == "OV" || vr == "SQ" ||
        vr == "UT" || vr == "UN" || vr == "UC" || vr == "UR" || vr == "SV" || vr == "UV") {
      if (pos + 12 > b.size()) break;
      length = Le32(p + 8);
      header = 12;
    } else {
      length = Le16(p + 6);
    }
    if (length == 0xFFFFFFFFu || pos + header + length > b.size()) {
      return Status::InvalidArgument("truncated or malformed file meta information");
    }
    if (element == 0x0010) {
      scan.transfer_syntax = std::string(TrimUidPadding(b.substr(pos + header, length)));
      have_ts = true;
    }
    pos += header + length;
  }
  if (!have_ts || scan.transfer_syntax.empty()) {
    return Status::InvalidArgument("file meta information has no Transfer Syntax UID");
  }
  scan.dataset_offset = pos;
  return scan;
}

}  // namespace

Result<std::string> PeekTransferSyntax(std::string_view bytes) {
  STRATA_ASSIGN_OR_RETURN(MetaScan scan, ScanMeta(bytes));
  return scan.transfer_syntax;
}

Result<Part10Layout> LocateDataset(std::string_view bytes) {
  STRATA_ASSIGN_OR_RETURN(MetaScan scan, ScanMeta(bytes));
  Part10Layout out;
  out.transfer_syntax = std::move(scan.transfer_syntax);
  out.dataset_offset = scan.dataset_offset;
  return out;
}

Result<Part10File> ReadPart10(std::string_view bytes) {
  STRATA_ASSIGN_OR_RETURN(MetaScan scan, ScanMeta(bytes));
  Part10File out;
  out.transfer_syntax = scan.transfer_syntax;
  out.syntax = FindSyntax(scan.transfer_syntax);
  if (out.syntax == nullptr) {
    return Status::InvalidArgument("unsupported transfer syntax " + scan.transfer_syntax);
  }
  out.file = std::make_unique<DcmFileFormat>();

  DcmInputBufferStream meta_in;
  meta_in.setBuffer(bytes.data(), static_cast<offile_off_t>(scan.dataset_offset));
  meta_in.setEos();
  DcmMetaInfo* meta = out.file->getMetaInfo();
  meta->transferInit();
  OFCondition c = meta->read(meta_in, EXS_LittleEndianExplicit, EGL_noChange, DCM_MaxReadLength);
  meta->transferEnd();
  if (c.bad()) return Status::InvalidArgument(std::string("file meta information: ") + c.text());

  DcmInputBufferStream data_in;
  data_in.setBuffer(bytes.data() + scan.dataset_offset,
                    static_cast<offile_off_t>(bytes.size() - scan.dataset_offset));
  data_in.setEos();
  DcmDataset* dataset = out.file->getDataset();
  dataset->transferInit();
  c = dataset->read(data_in, out.syntax->dcmtk_xfer, EGL_noChange, DCM_MaxReadLength);
  dataset->transferEnd();
  if (c.bad()) return Status::InvalidArgument(std::string("data set: ") + c.text());
  return out;
}

Result<std::string> WritePart10(DcmFileFormat& file, const SyntaxInfo& target) {
  const E_TransferSyntax xfer = target.dcmtk_xfer;
  DcmDataset* dataset = file.getDataset();
  if (!dataset->canWriteXfer(xfer, dataset->getOriginalXfer())) {
    return Status::Internal(fmt::format("pixel data has no representation for {}", target.name));
  }
  OFCondition c = file.validateMetaInfo(xfer, EWM_fileformat);
  if (c.bad()) return Status::InvalidArgument(std::string("file meta information: ") + c.text());
  DcmMetaInfo* meta = file.getMetaInfo();
  if (!target.dcmtk_knows_uid) {
    const std::string uid(target.uid);
    c = meta->putAndInsertString(DCM_TransferSyntaxUID, uid.c_str());
    if (c.good()) {
      c = meta->computeGroupLengthAndPadding(EGL_withGL, EPD_noChange, EXS_LittleEndianExplicit,
                                             EET_ExplicitLength);
    }
    if (c.bad()) return Status::Internal(std::string("meta header: ") + c.text());
  }

  std::string out;
  out.reserve(static_cast<size_t>(dataset->calcElementLength(xfer, EET_ExplicitLength)) + 1024);
  std::vector<char> buffer(1 << 20);
  DcmOutputBufferStream stream(buffer.data(), buffer.size());
  meta->transferInit();
  Status st = DrainDcmtkWrite(stream, out, [&] {
    return meta->write(stream, EXS_LittleEndianExplicit, EET_ExplicitLength, nullptr);
  });
  meta->transferEnd();
  STRATA_RETURN_IF_ERROR(st);
  dataset->transferInit();
  st = DrainDcmtkWrite(stream, out, [&] {
    return dataset->write(stream, xfer, EET_ExplicitLength, nullptr, EGL_recalcGL, EPD_noChange);
  });
  dataset->transferEnd();
  STRATA_RETURN_IF_ERROR(st);
  FlushDcmtkStream(stream, out);
  return out;
}

}  // namespace strata::codec
