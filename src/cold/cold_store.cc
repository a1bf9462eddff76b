#include "cold/cold_store.h"

#include "cold/local_cold_store.h"
#include "cold/s3_cold_store.h"

namespace strata {

Result<std::unique_ptr<ColdStore>> OpenColdStore(const ColdStoreOptions& options) {
  const std::string& url = options.url;
  if (url.empty()) return Status::InvalidArgument("cold store URL is empty");
  if (url.rfind("s3://", 0) == 0) {
    STRATA_ASSIGN_OR_RETURN(S3Config config, S3Config::FromOptions(options));
    STRATA_ASSIGN_OR_RETURN(auto store, S3ColdStore::Open(std::move(config)));
    return std::unique_ptr<ColdStore>(std::move(store));
  }
  std::string path;
  if (url.rfind("file://", 0) == 0) {
    path = url.substr(7);  // file:///abs -> /abs ; a host part is not supported
    if (path.empty() || path[0] != '/') {
      return Status::InvalidArgument("file:// URL must name an absolute path: " + url);
    }
  } else if (url.rfind("file:", 0) == 0) {
    path = url.substr(5);
  } else if (url.find("://") != std::string::npos) {
    return Status::InvalidArgument("unsupported cold store URL scheme: " + url +
                                   " (use file:/dir or s3://bucket[/prefix])");
  } else {
    path = url;
  }
  STRATA_ASSIGN_OR_RETURN(auto store, LocalColdStore::Open(path));
  return std::unique_ptr<ColdStore>(std::move(store));
}

}  // namespace strata
