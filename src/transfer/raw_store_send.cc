#include "transfer/raw_store_send.h"

#include <dcmtk/dcmnet/dul.h>

#include <cstdint>
#include <cstring>

#include "util/little_endian.h"
namespace strata {
namespace {

constexpr auto PutU16 = AppendLe16;
constexpr auto PutU32 = AppendLe32;
// One element of group 0000 (implicit VR: tag, 32-bit length, value).
void PutElement(std::string* out, uint16_t element, std::string_view value) {
  PutU16(out, 0x0000);
  PutU16(out, element);
  PutU32(out, static_cast<uint32_t>(value.size()));
  out->append(value);
}
void PutUs(std::string* out, uint16_t element, uint16_t v) {
  std::string value;
  PutU16(&value, v);
  PutElement(out, element, value);
}
// UI values are padded with NUL, AE (and other text) with a space, to an even length.
void PutText(std::string* out, uint16_t element, const char* text, char pad) {
  std::string value(text, strnlen(text, 64));
  if (value.size() % 2) value.push_back(pad);
  PutElement(out, element, value);
}

Status WriteFragments(T_ASC_Association* assoc, T_ASC_PresentationContextID pc, DUL_DATAPDV type,
                      std::string_view bytes) {
  // The peer's PDU size less the PDV header; even, as every fragment but the last must be.
  unsigned long max = assoc->sendPDVLength;
  const unsigned long cap = dcmMaxOutgoingPDUSize.get();
  if (cap > 12 && max + 12 > cap) max = cap - 12;
  max &= ~1ul;
  if (max == 0) return Status::Internal("association has no PDV length");
  size_t off = 0;
  do {
    const size_t n = std::min<size_t>(max, bytes.size() - off);
    DUL_PDV pdv;
    pdv.fragmentLength = static_cast<unsigned long>(n);
    pdv.presentationContextID = pc;
    pdv.pdvType = type;
    pdv.lastPDV = off + n == bytes.size() ? OFTrue : OFFalse;
    pdv.data = const_cast<char*>(bytes.data() + off);  // DUL copies it into its PDU; never written
    DUL_PDVLIST list;
    list.count = 1;
    list.pdv = &pdv;
    OFCondition c = DUL_WritePDVs(&assoc->DULassociation, &list);
    if (c.bad()) return Status::IOError(std::string("sending the C-STORE request: ") + c.text());
    off += n;
  } while (off < bytes.size());
  return Status::OK();
}

}  // namespace

std::string EncodeStoreCommand(const T_DIMSE_C_StoreRQ& req) {
  std::string body;
  PutText(&body, 0x0002, req.AffectedSOPClassUID, '\0');
  PutUs(&body, 0x0100, 0x0001);  // CommandField: C-STORE-RQ
  PutUs(&body, 0x0110, req.MessageID);
  PutUs(&body, 0x0700, static_cast<uint16_t>(req.Priority));
  PutUs(&body, 0x0800, 0x0000);  // CommandDataSetType: present (anything but 0101H)
  PutText(&body, 0x1000, req.AffectedSOPInstanceUID, '\0');
  if (req.opts & O_STORE_MOVEORIGINATORAETITLE) PutText(&body, 0x1030, req.MoveOriginatorApplicationEntityTitle, ' ');
  if (req.opts & O_STORE_MOVEORIGINATORID) PutUs(&body, 0x1031, req.MoveOriginatorID);
  std::string out;
  std::string length;
  PutU32(&length, static_cast<uint32_t>(body.size()));
  PutElement(&out, 0x0000, length);  // CommandGroupLength: the bytes after this element
  return out + body;
}

Status SendStoreRaw(T_ASC_Association* assoc, T_ASC_PresentationContextID pc, const T_DIMSE_C_StoreRQ& req,
                    std::string_view dataset, int timeout_s, T_DIMSE_C_StoreRSP* rsp) {
  if (dataset.empty() || dataset.size() % 2 != 0)
    return Status::InvalidArgument("data set of " + std::to_string(dataset.size()) +
                                   " bytes cannot be sent (empty or odd length)");
  STRATA_RETURN_IF_ERROR(WriteFragments(assoc, pc, DUL_COMMANDPDV, EncodeStoreCommand(req)));
  STRATA_RETURN_IF_ERROR(WriteFragments(assoc, pc, DUL_DATASETPDV, dataset));
  T_DIMSE_Message msg;
  std::memset(&msg, 0, sizeof(msg));
  T_ASC_PresentationContextID rsp_pc = 0;
  DcmDataset* detail = nullptr;
  OFCondition c = DIMSE_receiveCommand(assoc, timeout_s > 0 ? DIMSE_NONBLOCKING : DIMSE_BLOCKING, timeout_s, &rsp_pc,
                                       &msg, &detail);
  delete detail;
  if (c.bad()) return Status::IOError(std::string("waiting for the C-STORE response: ") + c.text());
  if (msg.CommandField != DIMSE_C_STORE_RSP)
    return Status::IOError("expected a C-STORE response, received command " + std::to_string(msg.CommandField));
  if (msg.msg.CStoreRSP.MessageIDBeingRespondedTo != req.MessageID)
    return Status::IOError("C-STORE response to message " + std::to_string(msg.msg.CStoreRSP.MessageIDBeingRespondedTo) +
                           ", expected " + std::to_string(req.MessageID));
  *rsp = msg.msg.CStoreRSP;
  return Status::OK();
}

}  // namespace strata
