#include "net/web/multipart.h"

#include <algorithm>
#include <cctype>

namespace strata::web {
namespace {

constexpr size_t kMaxHeaderBytes = 64 * 1024;

std::string Strip(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  const size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::string PartHeader(const std::string& boundary, const std::string& content_type) {
  return "--" + boundary + "\r\nContent-Type: " + content_type + "\r\n\r\n";
}

std::string BodyEnd(const std::string& boundary) { return "--" + boundary + "--\r\n"; }

MultipartReader::MultipartReader(std::string boundary, Callbacks callbacks)
    : delimiter_("\r\n--" + boundary), cb_(std::move(callbacks)) {
  buf_ = "\r\n";  // so that a body starting with the boundary matches the delimiter
}

Status MultipartReader::Feed(std::string_view data) {
  if (!error_.ok()) return error_;
  if (state_ == State::kDone) return Status::OK();
  buf_.append(data.data(), data.size());
  error_ = Run();
  return error_;
}

Status MultipartReader::Run() {
  for (;;) {
    switch (state_) {
      case State::kDone:
        buf_.clear();
        return Status::OK();
      case State::kPreamble: {
        const size_t p = buf_.find(delimiter_);
        if (p == std::string::npos) {
          if (buf_.size() >= delimiter_.size()) buf_.erase(0, buf_.size() - (delimiter_.size() - 1));
          return Status::OK();
        }
        buf_.erase(0, p + delimiter_.size());
        state_ = State::kAfterBoundary;
        break;
      }
      case State::kAfterBoundary: {
        if (buf_.size() < 2) return Status::OK();
        if (buf_.compare(0, 2, "--") == 0) {
          state_ = State::kDone;
          break;
        }
        size_t i = 0;
        while (i < buf_.size() && (buf_[i] == ' ' || buf_[i] == '\t')) ++i;  // transport padding
        if (i + 2 > buf_.size()) {
          if (i > 1024) return Status::InvalidArgument("multipart: garbage after a boundary");
          return Status::OK();
        }
        if (buf_.compare(i, 2, "\r\n") != 0) return Status::InvalidArgument("multipart: garbage after a boundary");
        buf_.erase(0, i + 2);
        state_ = State::kHeaders;
        break;
      }
      case State::kHeaders: {
        std::map<std::string, std::string> headers;
        size_t end;
        if (buf_.compare(0, 2, "\r\n") == 0) {
          end = 0;  // no headers at all
        } else {
          end = buf_.find("\r\n\r\n");
          if (end == std::string::npos) {
            if (buf_.size() > kMaxHeaderBytes) return Status::InvalidArgument("multipart: part headers too long");
            if (buf_.size() < 2) return Status::OK();
            return Status::OK();
          }
          size_t pos = 0;
          while (pos < end + 2) {
            size_t eol = buf_.find("\r\n", pos);
            std::string line = buf_.substr(pos, eol - pos);
            pos = eol + 2;
            const size_t colon = line.find(':');
            if (colon == std::string::npos) continue;
            std::string name = Strip(line.substr(0, colon));
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
            headers[name] = Strip(line.substr(colon + 1));
          }
          end += 2;
        }
        buf_.erase(0, end + 2);
        ++parts_;
        if (cb_.on_part_begin) STRATA_RETURN_IF_ERROR(cb_.on_part_begin(headers));
        state_ = State::kBody;
        break;
      }
      case State::kBody: {
        const size_t p = buf_.find(delimiter_);
        if (p == std::string::npos) {
          if (buf_.size() >= delimiter_.size()) {
            const size_t emit = buf_.size() - (delimiter_.size() - 1);
            if (cb_.on_part_data) STRATA_RETURN_IF_ERROR(cb_.on_part_data(std::string_view(buf_.data(), emit)));
            buf_.erase(0, emit);
          }
          return Status::OK();
        }
        if (p > 0 && cb_.on_part_data) STRATA_RETURN_IF_ERROR(cb_.on_part_data(std::string_view(buf_.data(), p)));
        buf_.erase(0, p + delimiter_.size());
        if (cb_.on_part_end) STRATA_RETURN_IF_ERROR(cb_.on_part_end());
        state_ = State::kAfterBoundary;
        break;
      }
    }
  }
}

Status MultipartReader::Finish() {
  if (!error_.ok()) return error_;
  if (state_ != State::kDone) return Status::InvalidArgument("multipart body ends before its closing boundary");
  return Status::OK();
}

}  // namespace strata::web
