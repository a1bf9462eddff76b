// PartUploader: turns a byte stream into the parts of an ObjectUpload, several parts in
// flight at once. Write() buffers; each full part is uploaded on its own thread; Finish()
// sends the last (short) part and waits for all. The first failed part fails Finish (or a
// later Write). The caller still owns the upload: it calls Complete() or Abort().
#pragma once

#include <cstdint>
#include <deque>
#include <future>
#include <string>
#include <string_view>

#include "cold/cold_store.h"

namespace strata {

class PartUploader {
 public:
  PartUploader(ObjectUpload* upload, uint64_t part_size, int parallel);
  // Waits for parts still in flight (their outcome no longer matters: the upload is aborted).
  ~PartUploader();

  Status Write(std::string_view bytes);
  Status Finish();

 private:
  Status Flush();
  Status WaitOldest();
  Status Drain();

  ObjectUpload* upload_;
  uint64_t part_size_;
  int parallel_;
  std::string buffer_;
  int next_part_ = 1;
  std::deque<std::future<Status>> inflight_;
};

}  // namespace strata
