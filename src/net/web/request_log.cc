#include "net/web/request_log.h"

#include <chrono>

#include "util/log.h"

namespace strata::web {
namespace {

struct RequestStats {
  std::chrono::steady_clock::time_point start;
  size_t streamed = 0;
  bool aborted = false;
};
thread_local RequestStats t_stats;

}  // namespace

void BeginRequestLog() { t_stats = RequestStats{std::chrono::steady_clock::now(), 0, false}; }

void AddStreamedBytes(size_t n) { t_stats.streamed += n; }

void MarkStreamAborted() { t_stats.aborted = true; }

void EndRequestLog(const httplib::Request& req, const httplib::Response& res) {
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_stats.start).count();
  const size_t bytes = res.body.empty() ? t_stats.streamed : res.body.size();
  if (t_stats.aborted) {
    spdlog::warn("event=http method={} path={} status={} bytes={} ms={:.1f} peer={}:{} aborted=1", req.method,
                 req.path, res.status, bytes, ms, req.remote_addr, req.remote_port);
  } else {
    spdlog::info("event=http method={} path={} status={} bytes={} ms={:.1f} peer={}:{}", req.method, req.path,
                 res.status, bytes, ms, req.remote_addr, req.remote_port);
  }
}

}  // namespace strata::web
