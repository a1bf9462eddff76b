#include "util/audit_log.h"

#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include <nlohmann/json.hpp>

#include "util/clock.h"
#include "util/log.h"

namespace strata {
namespace {

struct EventCode {
  const char* id;    // DCM code of the PS3.15 A.5 message
  const char* name;  // its meaning
  const char* action_code;  // EventActionCode: C(reate) R(ead) U(pdate) D(elete) E(xecute)
};

EventCode CodeOf(const std::string& action) {
  if (action == "store") return {"110104", "DICOM Instances Transferred", "C"};
  if (action == "query") return {"110112", "Query", "E"};
  if (action == "retrieve") return {"110103", "DICOM Instances Accessed", "R"};
  if (action == "export") return {"110106", "Export", "R"};
  if (action == "delete") return {"110105", "DICOM Study Deleted", "D"};
  if (action == "correct") return {"110103", "DICOM Instances Accessed", "U"};  // attributes corrected
  if (action == "merge") return {"110110", "Patient Record", "U"};
  if (action == "reject") return {"110114", "User Authentication", "E"};
  return {"110113", "Security Alert", "E"};  // deny and anything else
}

// RFC 5424 / ISO 8601 in UTC: YYYY-MM-DDTHH:MM:SS.mmmZ.
std::string IsoTime(int64_t ms) { return FormatUtcMs(ms, "%Y-%m-%dT%H:%M:%S", ".%03dZ"); }

}  // namespace

std::string AuditLog::Format(const AuditEvent& e, int64_t now_ms, const std::string& source) {
  using nlohmann::json;
  const EventCode code = CodeOf(e.action);
  const int outcome = e.success ? 0 : (e.action == "reject" || e.action == "deny") ? 8 : 4;
  json j = {{"EventDateTime", IsoTime(now_ms)},
            {"EventID", code.id},
            {"EventTypeName", code.name},
            {"EventActionCode", code.action_code},
            {"EventOutcomeIndicator", outcome},
            {"action", e.action},
            {"outcome", e.success ? "success" : "failure"},
            {"AuditSourceID", source},
            {"protocol", e.protocol},
            {"UserID", e.user},
            {"AlternativeUserID", e.ae},
            {"NetworkAccessPointID", e.address}};
  if (!e.detail.empty()) j["EventOutcomeDescription"] = e.detail;
  if (!e.destination.empty()) j["DestinationAE"] = e.destination;
  if (!e.study.empty()) j["ParticipantObjectID"] = e.study;  // the study (ParticipantObjectIDTypeCode 110180)
  if (!e.series.empty()) j["series"] = e.series;
  if (!e.instances.empty()) j["instances"] = e.instances;
  j["NumberOfInstances"] = e.count != 0 ? e.count : e.instances.size();
  if (!e.target.empty()) j["target"] = e.target;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const AuditOptions& options) {
  if (options.path.empty()) return Status::InvalidArgument("audit log without a file");
  const int fd = open(options.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return Status::FromErrno(errno, "opening the audit log " + options.path);
  std::unique_ptr<AuditLog> log(new AuditLog(options, fd));
  if (options.syslog == "local") {
    openlog(options.source.c_str(), LOG_NDELAY | LOG_PID, LOG_AUTHPRIV);
  } else if (options.syslog.rfind("udp:", 0) == 0) {
    const std::string hp = options.syslog.substr(4);
    const size_t colon = hp.rfind(':');
    if (colon == std::string::npos || colon == 0)
      return Status::InvalidArgument("audit.syslog must be udp:HOST:PORT, not '" + options.syslog + "'");
    std::string host = hp.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    addrinfo hints{};
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* ai = nullptr;
    if (int rc = getaddrinfo(host.c_str(), hp.substr(colon + 1).c_str(), &hints, &ai); rc != 0)
      return Status::InvalidArgument("audit.syslog: cannot resolve " + hp + ": " + gai_strerror(rc));
    log->udp_fd_ = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    log->udp_addr_.assign(reinterpret_cast<const char*>(ai->ai_addr), ai->ai_addrlen);
    freeaddrinfo(ai);
    if (log->udp_fd_ < 0) return Status::FromErrno(errno, "audit syslog socket");
  } else if (!options.syslog.empty()) {
    return Status::InvalidArgument("audit.syslog must be empty, local or udp:HOST:PORT");
  }
  return log;
}

AuditLog::AuditLog(AuditOptions options, int fd) : options_(std::move(options)), fd_(fd) {}

AuditLog::~AuditLog() {
  if (fd_ >= 0) {
    fdatasync(fd_);
    close(fd_);
  }
  spdlog::info("event=audit_closed file={} records={} syncs={} sync_ms={:.1f}", options_.path, written_, syncs_,
               sync_us_ / 1000.0);
  if (udp_fd_ >= 0) close(udp_fd_);
  if (options_.syslog == "local") closelog();
}

Result<uint64_t> AuditLog::Write(const std::string& line) {
  std::lock_guard<std::mutex> lk(mu_);
  const std::string out = line + "\n";
  size_t done = 0;
  while (done < out.size()) {  // O_APPEND: each write lands at the end; one lock keeps a line whole
    const ssize_t n = write(fd_, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::FromErrno(errno, "writing the audit log " + options_.path);
    done += static_cast<size_t>(n);
  }
  return ++written_;
}

void AuditLog::ToSyslog(const AuditEvent& e, const std::string& line) {
  if (options_.syslog == "local") {
    syslog(LOG_AUTHPRIV | (e.success ? LOG_INFO : LOG_NOTICE), "%s", line.c_str());
  } else if (udp_fd_ >= 0) {
    // RFC 5424: <PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG
    char host[256] = "-";
    gethostname(host, sizeof(host) - 1);
    const int pri = LOG_AUTHPRIV | (e.success ? LOG_INFO : LOG_NOTICE);  // facility 10 * 8 + severity
    const std::string msg = "<" + std::to_string(pri) + ">1 " + IsoTime(NowMs()) + " " + host + " " +
                            options_.source + " " + std::to_string(getpid()) + " " + e.action + " - " + line;
    sendto(udp_fd_, msg.data(), msg.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(udp_addr_.data()),
           static_cast<socklen_t>(udp_addr_.size()));
  }
}

void AuditLog::RecordAccess(const AuditEvent& e) {
  const std::string line = Format(e, NowMs(), options_.source);
  (void)Write(line);  // an access is not undone by a full disk; the store path reports that
  ToSyslog(e, line);
}

Status AuditLog::RecordChange(const AuditEvent& e) {
  const std::string line = Format(e, NowMs(), options_.source);
  STRATA_ASSIGN_OR_RETURN(uint64_t seq, Write(line));
  ToSyslog(e, line);
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    if (synced_ >= seq) return Status::OK();
    if (!syncing_) break;
    cv_.wait(lk);
  }
  // Leader: one fdatasync covers every line written so far.
  syncing_ = true;
  const uint64_t target = written_;
  lk.unlock();
  const auto t0 = std::chrono::steady_clock::now();
  const int rc = fdatasync(fd_);
  const int err = errno;
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
  lk.lock();
  syncing_ = false;
  ++syncs_;
  sync_us_ += static_cast<uint64_t>(us);
  cv_.notify_all();
  if (rc != 0) return Status::FromErrno(err, "syncing the audit log " + options_.path);
  synced_ = std::max(synced_, target);
  return Status::OK();
}

uint64_t AuditLog::syncs() const {
  std::lock_guard<std::mutex> lk(mu_);
  return syncs_;
}

}  // namespace strata
