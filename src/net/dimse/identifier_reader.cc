#include "net/dimse/identifier_reader.h"

#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcostrma.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmnet/dimse.h>

#include <algorithm>
#include <cstring>

namespace strata {
namespace {

// Keeps the first CAP bytes written; counts (and drops) the rest.
class BoundedConsumer : public DcmConsumer {
 public:
  explicit BoundedConsumer(size_t cap) : cap_(cap) {}
  OFBool good() const override { return OFTrue; }
  OFCondition status() const override { return EC_Normal; }
  OFBool isFlushed() const override { return OFTrue; }
  offile_off_t avail() const override { return 1 << 20; }
  offile_off_t write(const void* buf, offile_off_t len) override {
    if (len <= 0) return 0;
    const size_t n = std::min(static_cast<size_t>(len), cap_ - std::min(cap_, bytes_.size()));
    bytes_.append(static_cast<const char*>(buf), n);
    if (n < static_cast<size_t>(len)) overflowed_ = true;
    return len;
  }
  void flush() override {}
  const std::string& bytes() const { return bytes_; }
  bool overflowed() const { return overflowed_; }

 private:
  size_t cap_;
  std::string bytes_;
  bool overflowed_ = false;
};

class BoundedOutputStream : public DcmOutputStream {
 public:
  explicit BoundedOutputStream(BoundedConsumer* c) : DcmOutputStream(c) {}
};

size_t CountPattern(const std::string& s, const char (&p)[4]) {
  size_t n = 0;
  for (size_t at = s.find(p, 0, 4); at != std::string::npos; at = s.find(p, at + 1, 4)) ++n;
  return n;
}

}  // namespace

Status CheckIdentifierBytes(const std::string& bytes, bool overflowed, size_t max_bytes, int max_items) {
  if (overflowed || bytes.size() > max_bytes)
    return Status::InvalidArgument("identifier larger than " + std::to_string(max_bytes) + " bytes");
  // Item tag in little and big endian; a stray match in a value only makes the bound stricter.
  static const char kLe[4] = {'\xFE', '\xFF', '\x00', '\xE0'};
  static const char kBe[4] = {'\xFF', '\xFE', '\xE0', '\x00'};
  const size_t items = CountPattern(bytes, kLe) + CountPattern(bytes, kBe);
  if (items > static_cast<size_t>(std::max(0, max_items)))
    return Status::InvalidArgument("identifier has " + std::to_string(items) + " sequence items (at most " +
                                   std::to_string(max_items) + ")");
  return Status::OK();
}

Result<std::unique_ptr<DcmDataset>> ReceiveIdentifier(T_ASC_Association* assoc, T_ASC_PresentationContextID pc,
                                                      int timeout_s, size_t max_bytes, int max_items,
                                                      OFCondition* broken) {
  BoundedConsumer sink(max_bytes + 1);
  BoundedOutputStream out(&sink);
  T_ASC_PresentationContextID data_pc = 0;
  OFCondition c = DIMSE_receiveDataSetInFile(assoc, DIMSE_BLOCKING, timeout_s, &data_pc, &out, nullptr, nullptr);
  if (c.bad()) {
    *broken = c;
    return Status::IOError(std::string("receiving the identifier: ") + c.text());
  }
  if (data_pc != pc) return Status::InvalidArgument("identifier sent on another presentation context");
  STRATA_RETURN_IF_ERROR(CheckIdentifierBytes(sink.bytes(), sink.overflowed(), max_bytes, max_items));
  T_ASC_PresentationContext ctx;
  if (ASC_findAcceptedPresentationContext(assoc->params, pc, &ctx).bad())
    return Status::InvalidArgument("identifier on a presentation context that was not accepted");
  const E_TransferSyntax xfer = DcmXfer(ctx.acceptedTransferSyntax).getXfer();
  DcmInputBufferStream in;
  in.setBuffer(sink.bytes().data(), static_cast<offile_off_t>(sink.bytes().size()));
  in.setEos();
  auto ds = std::make_unique<DcmDataset>();
  ds->transferInit();
  c = ds->read(in, xfer, EGL_noChange, DCM_MaxReadLength);
  ds->transferEnd();
  if (c.bad()) return Status::InvalidArgument(std::string("identifier does not parse: ") + c.text());
  return ds;
}

}  // namespace strata
