#include "model/uid.h"

namespace strata {

Status ValidateUid(std::string_view uid, std::string_view what) {
  std::string w(what);
  if (uid.empty()) return Status::InvalidArgument(w + " is empty");
  if (uid.size() > 64) return Status::InvalidArgument(w + " is longer than 64 characters");
  size_t comp_start = 0;
  for (size_t i = 0; i <= uid.size(); ++i) {
    if (i == uid.size() || uid[i] == '.') {
      size_t len = i - comp_start;
      if (len == 0) return Status::InvalidArgument(w + " has an empty component: '" + std::string(uid) + "'");
      if (len > 1 && uid[comp_start] == '0')
        return Status::InvalidArgument(w + " has a component with a leading zero: '" + std::string(uid) + "'");
      comp_start = i + 1;
      continue;
    }
    if (uid[i] < '0' || uid[i] > '9')
      return Status::InvalidArgument(w + " has a character other than digits and dots: '" +
                                     std::string(uid.substr(0, 80)) + "'");
  }
  return Status::OK();
}

std::string TrimUid(std::string_view uid) {
  // Only the trailing padding: a space anywhere else is part of the value (and invalid).
  size_t end = uid.size();
  while (end > 0 && (uid[end - 1] == '\0' || uid[end - 1] == ' ')) --end;
  return std::string(uid.substr(0, end));
}

}  // namespace strata
