// C-STORE SCP. The data set streams straight into a file in the hot tier's incoming directory
// (bit-preserving: never parsed into memory here), then Archive::StoreFile takes the file.
// The receive loop is ours rather than DIMSE_storeProvider's so that a failed write (a full
// disk) drains the rest of the data set and answers A700 (Refused: Out of Resources) on a
// live association: DCMTK's provider returns without a response when a write fails mid-way,
// which forced an abort, and senders treat an abort as a reason to stop rather than retry.
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcostrma.h>
#include <dcmtk/dcmdata/dcostrmf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "net/dimse/dimse_service.h"
#include "net/dimse/dimse_status.h"
#include "util/fd_io.h"
#include "util/log.h"

namespace strata {
namespace {

// Appends to FD; after the first failed write it remembers errno and drops the rest, so the
// caller can keep reading the association to the end of the data set.
class AppendingConsumer : public DcmConsumer {
 public:
  explicit AppendingConsumer(int fd) : fd_(fd) {}
  OFBool good() const override { return OFTrue; }
  OFCondition status() const override { return EC_Normal; }
  OFBool isFlushed() const override { return OFTrue; }
  offile_off_t avail() const override { return 1 << 20; }
  offile_off_t write(const void* buf, offile_off_t len) override {
    if (len <= 0 || error_ != 0) return len;
    const char* p = static_cast<const char*>(buf);
    size_t left = static_cast<size_t>(len);
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        error_ = n < 0 ? errno : ENOSPC;
        break;
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    written_ += static_cast<uint64_t>(len);
    if (written_ - started_ >= kWritebackChunk) StartWriteback();
    return len;
  }
  // Starts the disk writing what was appended so far, without waiting (sync_file_range is a
  // hint, not a durability call: the store's fdatasync through the Env decides durability).
  // The final fdatasync then waits for less, and the scan overlaps the disk's work.
  void StartWriteback() {
#ifdef __linux__
    if (error_ == 0) (void)::sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
    started_ = written_;
  }
  void flush() override {}
  int error() const { return error_; }

 private:
  static constexpr uint64_t kWritebackChunk = 8u << 20;
  int fd_;
  int error_ = 0;
  uint64_t written_ = 0;
  uint64_t started_ = 0;
};

class AppendingStream : public DcmOutputStream {
 public:
  explicit AppendingStream(AppendingConsumer* c) : DcmOutputStream(c) {}
};

// The meta header DIMSE_createFilestream wrote is complete: 132 bytes of preamble and magic,
// then (0002,0000) UL whose value is the length of the rest of group 2.
bool MetaHeaderComplete(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  unsigned char b[144];
  const Result<size_t> n = PreadUpTo(fd, reinterpret_cast<char*>(b), sizeof(b), 0, path);
  struct stat sb {};
  const bool stat_ok = fstat(fd, &sb) == 0;
  close(fd);
  if (!n.ok() || n.value() != sizeof(b) || !stat_ok || memcmp(b + 128, "DICM", 4) != 0) return false;
  if (b[132] != 0x02 || b[133] != 0 || b[134] != 0 || b[135] != 0) return false;
  const uint32_t group_len = b[140] | (b[141] << 8) | (b[142] << 16) | (static_cast<uint32_t>(b[143]) << 24);
  return static_cast<uint64_t>(sb.st_size) == 144u + group_len;
}

// Receives the data set of REQ into PATH. The Status is what went wrong locally (the data set
// was drained either way); a bad condition in BROKEN means the association itself failed.
Status ReceiveToFile(T_ASC_Association* assoc, T_ASC_PresentationContextID pc, T_DIMSE_C_StoreRQ* req,
                     const std::string& path, int timeout_s, OFCondition* broken) {
  DcmOutputFileStream* meta = nullptr;
  OFCondition c = DIMSE_createFilestream(path.c_str(), req, assoc, pc, OFTrue, &meta);
  delete meta;  // closes the file
  const bool meta_ok = c.good() && MetaHeaderComplete(path);
  int fd = meta_ok ? open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC) : -1;
  const int open_errno = errno;
  if (fd < 0) {
    DIC_UL bytes = 0, pdvs = 0;
    *broken = DIMSE_ignoreDataSet(assoc, DIMSE_BLOCKING, timeout_s, &bytes, &pdvs);
    unlink(path.c_str());
    // A meta header that could not be written in full is a full disk in all but name.
    if (!meta_ok) return Status::NoSpace("cannot write the meta header of " + path);
    return Status::FromErrno(open_errno, "opening " + path);
  }
  AppendingConsumer sink(fd);
  AppendingStream out(&sink);
  T_ASC_PresentationContextID data_pc = 0;
  c = DIMSE_receiveDataSetInFile(assoc, DIMSE_BLOCKING, timeout_s, &data_pc, &out, nullptr, nullptr);
  if (c.good()) sink.StartWriteback();
  int err = sink.error();
  if (err == 0 && close(fd) != 0)
    err = errno;
  else if (err != 0)
    close(fd);
  if (c.bad()) {
    *broken = c;
    return Status::IOError(std::string("receiving the data set: ") + c.text());
  }
  if (data_pc != pc) return Status::InvalidArgument("data set sent on another presentation context than its command");
  if (err != 0) return Status::FromErrno(err, "writing " + path);
  return Status::OK();
}

}  // namespace

OFCondition HandleStore(const ServiceEnv& env, T_ASC_Association* assoc, T_ASC_PresentationContextID pc,
                        T_DIMSE_C_StoreRQ& req, AssocStats* st) {
  T_DIMSE_C_StoreRSP rsp;
  memset(&rsp, 0, sizeof(rsp));
  DcmDataset detail;
  const std::string sop = TrimDicom(req.AffectedSOPInstanceUID);
  const std::string cls = TrimDicom(req.AffectedSOPClassUID);
  std::string temp = env.archive->NewIncomingPath();
  OFCondition broken = EC_Normal;
  const auto t0 = std::chrono::steady_clock::now();
  Status received = req.DataSetType == DIMSE_DATASET_NULL
                        ? Status::InvalidArgument("C-STORE-RQ without data set")
                        : ReceiveToFile(assoc, pc, &req, temp, env.opt->idle_timeout_s, &broken);
  st->receive_us += std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
  if (broken.bad()) {
    unlink(temp.c_str());
    ++st->failures;
    return broken;
  }
  Status failed = received;
  if (received.ok()) {
    // The archive owns (moved or deleted) the file now; the calling AE is recorded with a rejection.
    auto res = env.archive->StoreFile(temp, sop, cls, "dimse:" + st->calling + "@" + st->peer);
    if (!res.ok()) {
      failed = res.status();
      if (env.opt->audit != nullptr) {
        AuditEvent e = DimseAudit(*st, "store", "C-STORE");
        e.success = false;
        e.detail = failed.message();
        e.instances = {sop};
        env.opt->audit->RecordAccess(e);
      }
    } else {
      const StoreResult& sr = res.value();
      st->scan_us += sr.timings.scan_us;
      st->sync_us += sr.timings.sync_us;
      st->place_us += sr.timings.place_us;
      st->commit_us += sr.timings.commit_us;
      // The change is reported done only once its audit record is on disk.
      if (env.opt->audit != nullptr) {
        AuditEvent e = DimseAudit(*st, "store", "C-STORE");
        e.study = sr.record.study_uid;
        e.series = sr.record.series_uid;
        e.instances = {sr.record.sop_uid};
        if (Status a = env.opt->audit->RecordChange(e); !a.ok()) failed = a;
      }
      ++st->instances_in;
      st->bytes_in += sr.record.size;
      rsp.DimseStatus = STATUS_Success;
      if (sr.outcome == StoreResult::Outcome::kDuplicateKept) {
        rsp.DimseStatus = kStoreElementsDiscarded;
        detail.putAndInsertString(DCM_ErrorComment, "duplicate SOP Instance UID: stored one kept");
        ++st->warnings;
        spdlog::warn("event=duplicate_kept calling={} sop={} detail=\"{}\"", st->calling, sop, sr.warning);
      }
    }
  } else {
    unlink(temp.c_str());
  }
  if (!failed.ok()) {
    rsp.DimseStatus = StoreFailureStatus(failed);
    detail.putAndInsertString(DCM_ErrorComment, failed.message().substr(0, 64).c_str());
    ++st->failures;
    spdlog::warn("event=store_failed calling={} sop={} status=0x{:04X} error=\"{}\"", st->calling, sop, rsp.DimseStatus,
                 failed.ToString());
  }
  const auto t1 = std::chrono::steady_clock::now();
  OFCondition sent = DIMSE_sendStoreResponse(assoc, pc, &req, &rsp,
                                             failed.ok() && rsp.DimseStatus == STATUS_Success ? nullptr : &detail);
  st->respond_us += std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t1).count();
  return sent;
}

}  // namespace strata
