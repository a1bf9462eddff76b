// PrefetchReader: hands out the bytes of a list of instances in order while a background
// thread keeps up to read_ahead reads in flight (cold reads are network round trips; a
// whole study from packs then streams about as fast as from the hot tier).
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "archive/archive.h"

namespace strata {

class PrefetchReader {
 public:
  PrefetchReader(Archive* archive, std::vector<InstanceRecord> records);
  ~PrefetchReader();  // stops reading ahead and waits for the background thread
  // The next instance's verified bytes (or why it could not be read). Call once per record.
  Result<std::string> Next();

 private:
  Archive* archive_;
  std::vector<InstanceRecord> records_;
  size_t capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Result<std::string>> ready_;
  bool cancel_ = false;
  std::thread thread_;
};

}  // namespace strata
