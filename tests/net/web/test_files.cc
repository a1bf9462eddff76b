#include "test_files.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcwcache.h>

#include <vector>

namespace strata::web::testing {

std::unique_ptr<DcmFileFormat> MakeImage(int rows, int cols, int frames) {
  auto ff = std::make_unique<DcmFileFormat>();
  DcmDataset* ds = ff->getDataset();
  ds->putAndInsertString(DCM_SOPClassUID, UID_SecondaryCaptureImageStorage);
  ds->putAndInsertString(DCM_SOPInstanceUID, "1.2.3.4.5.6.7");
  ds->putAndInsertString(DCM_StudyInstanceUID, "1.2.3.4");
  ds->putAndInsertString(DCM_SeriesInstanceUID, "1.2.3.4.5");
  ds->putAndInsertString(DCM_PatientName, "Doe^Jane");
  ds->putAndInsertString(DCM_Modality, "OT");
  DcmItem* item = nullptr;
  ds->findOrCreateSequenceItem(DCM_ReferencedStudySequence, item, -2);
  item->putAndInsertString(DCM_ReferencedSOPClassUID, "1.2.840.10008.3.1.2.3.1");
  item->putAndInsertString(DCM_ReferencedSOPInstanceUID, "1.2.3.9");
  ds->putAndInsertUint16(DCM_Rows, static_cast<Uint16>(rows));
  ds->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(cols));
  ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
  ds->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
  ds->putAndInsertUint16(DCM_BitsAllocated, 16);
  ds->putAndInsertUint16(DCM_BitsStored, 16);
  ds->putAndInsertUint16(DCM_HighBit, 15);
  ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
  ds->putAndInsertString(DCM_WindowCenter, "1000");
  ds->putAndInsertString(DCM_WindowWidth, "2000");
  if (frames > 1) ds->putAndInsertString(DCM_NumberOfFrames, std::to_string(frames).c_str());
  std::vector<Uint16> px(static_cast<size_t>(rows) * cols * frames);
  for (int f = 0; f < frames; ++f)
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c)
        px[(static_cast<size_t>(f) * rows + r) * cols + c] = static_cast<Uint16>(f * 1000 + r * cols + c);
  ds->putAndInsertUint16Array(DCM_PixelData, px.data(), static_cast<unsigned long>(px.size()));
  return ff;
}

std::string ToPart10(DcmFileFormat& file, E_TransferSyntax xfer, bool undefined_lengths) {
  std::string out;
  std::vector<char> buf(1 << 16);
  DcmOutputBufferStream s(buf.data(), buf.size());
  file.transferInit();
  OFCondition c = EC_StreamNotifyClient;
  DcmWriteCache cache;
  while (c == EC_StreamNotifyClient) {
    c = file.write(s, xfer, undefined_lengths ? EET_UndefinedLength : EET_ExplicitLength, &cache, EGL_recalcGL, EPD_noChange, 0, 0, 0, EWM_fileformat);
    void* data = nullptr;
    offile_off_t n = 0;
    s.flushBuffer(data, n);
    if (n > 0) out.append(static_cast<const char*>(data), static_cast<size_t>(n));
  }
  file.transferEnd();
  return c.good() ? out : std::string();
}

}  // namespace strata::web::testing
