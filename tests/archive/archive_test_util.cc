#include "archive_test_util.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcwcache.h>

#include <algorithm>
#include <filesystem>

namespace strata::testing {

std::string MakeInstance(const std::string& study, const std::string& series, const std::string& sop, int seed) {
  DcmFileFormat ff;
  DcmDataset* ds = ff.getDataset();
  ds->putAndInsertString(DCM_SOPClassUID, UID_SecondaryCaptureImageStorage);
  ds->putAndInsertString(DCM_SOPInstanceUID, sop.c_str());
  ds->putAndInsertString(DCM_StudyInstanceUID, study.c_str());
  ds->putAndInsertString(DCM_SeriesInstanceUID, series.c_str());
  ds->putAndInsertString(DCM_PatientID, "P1");
  ds->putAndInsertString(DCM_PatientName, "Doe^Jane");
  ds->putAndInsertString(DCM_Modality, "OT");
  ds->putAndInsertUint16(DCM_Rows, 8);
  ds->putAndInsertUint16(DCM_Columns, 8);
  ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
  ds->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
  ds->putAndInsertUint16(DCM_BitsAllocated, 16);
  ds->putAndInsertUint16(DCM_BitsStored, 16);
  ds->putAndInsertUint16(DCM_HighBit, 15);
  ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
  std::vector<Uint16> px(64);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<Uint16>(seed * 64 + i);
  ds->putAndInsertUint16Array(DCM_PixelData, px.data(), static_cast<unsigned long>(px.size()));
  std::string out;
  std::vector<char> buf(1 << 16);
  DcmOutputBufferStream s(buf.data(), buf.size());
  ff.transferInit();
  OFCondition c = EC_StreamNotifyClient;
  DcmWriteCache cache;
  while (c == EC_StreamNotifyClient) {
    c = ff.write(s, EXS_LittleEndianExplicit, EET_ExplicitLength, &cache, EGL_recalcGL, EPD_noChange, 0, 0, 0,
                 EWM_fileformat);
    void* data = nullptr;
    offile_off_t n = 0;
    s.flushBuffer(data, n);
    if (n > 0) out.append(static_cast<const char*>(data), static_cast<size_t>(n));
  }
  ff.transferEnd();
  return c.good() ? out : std::string();
}

std::vector<std::string> ListFiles(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file()) out.push_back(std::filesystem::relative(it->path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace strata::testing
