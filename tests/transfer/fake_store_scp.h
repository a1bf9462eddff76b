// FakeStoreScp: an in-process C-STORE SCP (DCMTK DcmSCP, one association at a time, like
// storescp without --fork) whose answers a test scripts per SOP Instance UID: success, a
// failure status, or aborting the association. It records every attempt it saw.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace strata::testing {

class FakeStoreScp {
 public:
  // What to do with one C-STORE attempt.
  struct Answer {
    enum Kind { kStatus, kAbort } kind = kStatus;
    uint16_t status = 0;
  };
  struct Attempt {
    std::string sop_uid, sop_class, transfer_syntax;
    int association = 0;  // 1-based count of associations this SCP accepted
  };

  // Accepts SOP_CLASSES (CT Image Storage is always there) in every syntax the tests use.
  explicit FakeStoreScp(std::vector<std::string> extra_sop_classes = {});
  ~FakeStoreScp();
  // Answers for successive attempts at SOP; later attempts get the last answer.
  void Script(const std::string& sop, std::vector<Answer> answers);
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::vector<Attempt> attempts() const;
  std::map<std::string, int> attempts_by_sop() const;
  int associations() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  std::thread thread_;
};

// A TCP port on 127.0.0.1 that nothing listens on (bound, then closed).
int UnusedPort();

}  // namespace strata::testing
