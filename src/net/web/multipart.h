// multipart/related bodies (RFC 2387, PS3.18 8.6.1.2): the writer side of WADO-RS responses
// and a streaming reader for STOW-RS requests, which never holds more than one part's
// overlap window in memory (parts are handed on in pieces as they arrive).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "util/status.h"

namespace strata::web {

// "--BOUNDARY\r\nContent-Type: TYPE\r\n\r\n" (the part's bytes follow, then PartEnd()).
std::string PartHeader(const std::string& boundary, const std::string& content_type);
// "\r\n" after a part's bytes.
inline const char* PartEnd() { return "\r\n"; }
// "--BOUNDARY--\r\n".
std::string BodyEnd(const std::string& boundary);

// Feed the body in any pieces; the callbacks see each part's headers (lower-case names), its
// bytes in order (possibly in several calls) and its end. Bytes before the first boundary
// (the preamble) and after the closing one (the epilogue) are ignored.
class MultipartReader {
 public:
  struct Callbacks {
    std::function<Status(const std::map<std::string, std::string>& headers)> on_part_begin;
    std::function<Status(std::string_view data)> on_part_data;
    std::function<Status()> on_part_end;
  };

  MultipartReader(std::string boundary, Callbacks callbacks);
  // Consumes DATA; an error (malformed body or one returned by a callback) is sticky.
  Status Feed(std::string_view data);
  // Call once the body is complete: InvalidArgument unless the closing boundary was seen.
  Status Finish();
  size_t parts() const { return parts_; }

 private:
  enum class State { kPreamble, kAfterBoundary, kHeaders, kBody, kDone };
  Status Run();

  std::string delimiter_;  // "\r\n--" + boundary
  Callbacks cb_;
  State state_ = State::kPreamble;
  std::string buf_;
  size_t parts_ = 0;
  Status error_;
};

}  // namespace strata::web
