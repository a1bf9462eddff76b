// The hand-encoded C-STORE-RQ command set reads back, through DCMTK's own parser, as the
// command DCMTK would have sent: every field, the group length, even value lengths.
#include "transfer/raw_store_send.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <gtest/gtest.h>

#include <cstring>

#include "transfer/store_request.h"

namespace strata {
namespace {

DcmDataset Parse(const std::string& bytes) {
  DcmInputBufferStream in;
  in.setBuffer(bytes.data(), static_cast<offile_off_t>(bytes.size()));
  in.setEos();
  DcmDataset ds;
  ds.transferInit();
  EXPECT_TRUE(ds.read(in, EXS_LittleEndianImplicit).good());
  ds.transferEnd();
  return ds;
}

uint16_t Us(DcmDataset& ds, const DcmTagKey& tag) {
  Uint16 v = 0xFFFF;
  EXPECT_TRUE(ds.findAndGetUint16(tag, v).good()) << tag.toString();
  return v;
}

std::string Str(DcmDataset& ds, const DcmTagKey& tag) {
  OFString v;
  EXPECT_TRUE(ds.findAndGetOFString(tag, v).good()) << tag.toString();
  return v.c_str();
}

TEST(RawStoreSend, CommandReadsBackAsACStoreRequest) {
  T_ASC_Association assoc;
  std::memset(&assoc, 0, sizeof(assoc));
  assoc.nextMsgID = 513;
  // An odd-length SOP Instance UID: padded with NUL to an even value length.
  const T_DIMSE_C_StoreRQ req = MakeStoreRequest(&assoc, "1.2.840.10008.5.1.4.1.1.2", "1.2.3.45");
  const std::string bytes = EncodeStoreCommand(req);
  EXPECT_EQ(bytes.size() % 2, 0u);
  DcmDataset ds = Parse(bytes);
  Uint32 group_length = 0;
  ASSERT_TRUE(ds.findAndGetUint32(DCM_CommandGroupLength, group_length).good());
  EXPECT_EQ(group_length, bytes.size() - 12);  // everything after the group length element
  EXPECT_EQ(Str(ds, DCM_AffectedSOPClassUID), "1.2.840.10008.5.1.4.1.1.2");
  EXPECT_EQ(Str(ds, DCM_AffectedSOPInstanceUID), "1.2.3.45");
  EXPECT_EQ(Us(ds, DCM_CommandField), 0x0001);
  EXPECT_EQ(Us(ds, DCM_MessageID), 513);
  EXPECT_EQ(Us(ds, DCM_Priority), 0x0000);
  EXPECT_NE(Us(ds, DCM_CommandDataSetType), 0x0101);  // a data set follows
  EXPECT_FALSE(ds.tagExists(DCM_MoveOriginatorApplicationEntityTitle));
  EXPECT_FALSE(ds.tagExists(DCM_MoveOriginatorMessageID));
}

TEST(RawStoreSend, CommandOfACMoveSubOperationCarriesTheOriginator) {
  T_ASC_Association assoc;
  std::memset(&assoc, 0, sizeof(assoc));
  assoc.nextMsgID = 7;
  const T_DIMSE_C_StoreRQ req = MakeStoreRequest(&assoc, "1.2.840.10008.5.1.4.1.1.4", "1.2.3.4", {"VIEWER1", 77});
  DcmDataset ds = Parse(EncodeStoreCommand(req));
  EXPECT_EQ(Str(ds, DCM_MoveOriginatorApplicationEntityTitle), "VIEWER1");  // space padding trimmed
  EXPECT_EQ(Us(ds, DCM_MoveOriginatorMessageID), 77);
  EXPECT_EQ(Us(ds, DCM_MessageID), 7);
}

TEST(RawStoreSend, RefusesADataSetOfOddOrZeroLengthBeforeSendingAnything) {
  T_ASC_Association assoc;
  std::memset(&assoc, 0, sizeof(assoc));  // no DUL association: anything sent would crash
  T_DIMSE_C_StoreRQ req = MakeStoreRequest(&assoc, "1.2.840.10008.5.1.4.1.1.2", "1.2.3.4");
  T_DIMSE_C_StoreRSP rsp;
  EXPECT_EQ(SendStoreRaw(&assoc, 1, req, "", 0, &rsp).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(SendStoreRaw(&assoc, 1, req, "abc", 0, &rsp).code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace strata
