#include "testdata/uid_scheme.h"

#include "model/uid.h"

namespace strata::testdata {

Result<std::string> MakeUid(std::string_view root, std::initializer_list<uint64_t> components) {
  std::string uid(root);
  for (uint64_t c : components) {
    uid.push_back('.');
    uid += std::to_string(c);
  }
  STRATA_RETURN_IF_ERROR(ValidateUid(uid, "generated UID"));
  return uid;
}

Status ValidateUidRoot(std::string_view root) {
  STRATA_RETURN_IF_ERROR(ValidateUid(root, "UID root"));
  if (root.size() > 40) {
    return Status::InvalidArgument("UID root '" + std::string(root) +
                                   "' is longer than 40 characters; generated UIDs would not fit");
  }
  return Status::OK();
}

}  // namespace strata::testdata
