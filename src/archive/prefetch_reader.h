// PrefetchReader: hands out the bytes of a list of instances in order while worker threads
// keep reads in flight (cold reads are round trips to the object store) and apply an optional
// TRANSFORM (e.g. decoding to a syntax the peer accepted) in parallel, so a study from packs
// streams about as fast as from the hot tier and both cores decode. Adjacent entries of one
// pack are read as one run (archive/read_run.h: one ranged GET for up to 2 MB of entries);
// up to read_ahead tasks (a hot file or a run) are in flight, fewer when runs are large, so
// about read_ahead x 1 MB is buffered per reader.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "archive/archive.h"

namespace strata {

class PrefetchReader {
 public:
  using Transform = std::function<Result<std::string>(const InstanceRecord&, std::string&&)>;

  PrefetchReader(Archive* archive, std::vector<InstanceRecord> records, Transform transform = nullptr);
  ~PrefetchReader();  // waits for reads in flight
  // The next instance's verified bytes as served (Archive::ReadServed: patched from its
  // study's correction records, listed once per study when the reader is made; kept on
  // error, so that an unreachable catalog fails the reads, not the construction) and transformed, or why there are none. Call once
  // per record, in order.
  Result<std::string> Next();

 private:
  void Launch();
  bool CanLaunch() const;
  Archive* archive_;
  std::vector<InstanceRecord> records_;
  Transform transform_;
  size_t ahead_;
  size_t next_launch_ = 0;
  uint64_t inflight_bytes_ = 0;
  struct Task {
    std::future<std::vector<Result<std::string>>> results;
    uint64_t bytes = 0;  // stored bytes the task reads
    std::vector<Result<std::string>> ready;  // once fetched
    size_t next = 0;     // first result of READY not handed out yet
    bool fetched = false;
  };
  std::deque<Task> inflight_;
  std::map<std::string, Result<std::vector<CorrectionRecord>>> corrections_;  // by study UID
};

}  // namespace strata
