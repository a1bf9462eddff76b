// AuditLog: the audit trail — one JSON line per access (query, retrieve) and per change
// (store, delete) and per refused request, with the DICOM PS3.15 A.5 (IHE ATNA) field names
// where they map (EventID, EventActionCode, EventDateTime, EventOutcomeIndicator, UserID,
// AlternativeUserID = AE title, NetworkAccessPointID, ParticipantObjectID = study UID) and a
// few plain ones (action, outcome, series, instances). Written to a local file opened
// O_APPEND, and optionally copied to syslog: "local" = syslog(3) (facility authpriv), or
// "udp:HOST:PORT" = RFC 5424 messages over UDP.
// Durability: RecordChange() returns only once its line is fdatasync'ed; concurrent callers
// share one fdatasync (the first to arrive syncs for every line written so far, the others
// wait for it), like the store path's group commit. RecordAccess() writes without waiting
// (its line is synced by the next change, or at Close()).
// Thread-safe. Secrets (passwords, tokens) are never given to it: callers pass identities.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "util/status.h"

namespace strata {

struct AuditEvent {
  std::string action;   // store | query | retrieve | export | delete | correct | merge | reject | deny
  bool success = true;  // EventOutcomeIndicator 0, else 4 (minor failure) or 8 (serious: reject/deny)
  std::string detail;   // EventOutcomeDescription: why it failed, what was refused
  std::string protocol;  // "DIMSE" | "DICOMweb" | "web"
  std::string user;      // authenticated identity ("" = anonymous)
  std::string ae;        // calling AE title (DIMSE)
  std::string address;   // peer network address
  std::string destination;  // C-MOVE destination AE / export target
  std::string study, series;
  std::vector<std::string> instances;  // SOP Instance UIDs (stores, deletes)
  uint64_t count = 0;                  // instances concerned (0 = instances.size())
  std::string target;                  // the HTTP path or DIMSE service for context
};

struct AuditOptions {
  std::string path;           // the JSON-lines file ("" = no audit trail)
  std::string syslog;         // "" | "local" | "udp:HOST:PORT"
  std::string source = "strata";  // AuditSourceID / syslog APP-NAME
};

class AuditLog {
 public:
  // Opens (creating) the file and the syslog channel; IOError / InvalidArgument otherwise.
  static Result<std::unique_ptr<AuditLog>> Open(const AuditOptions& options);
  ~AuditLog();  // syncs and closes

  // An access or a refusal: written now, synced with the next change.
  void RecordAccess(const AuditEvent& e);
  // A change: returns once the line is on disk (IOError if it could not be written or synced;
  // the caller must then not report the change as done).
  [[nodiscard]] Status RecordChange(const AuditEvent& e);

  // The line for E at time NOW_MS (exposed for tests).
  static std::string Format(const AuditEvent& e, int64_t now_ms, const std::string& source);
  uint64_t syncs() const;

 private:
  AuditLog(AuditOptions options, int fd);
  Result<uint64_t> Write(const std::string& line);  // the line's sequence number
  void ToSyslog(const AuditEvent& e, const std::string& line);

  AuditOptions options_;
  int fd_ = -1;
  int udp_fd_ = -1;
  std::string udp_addr_;  // sockaddr bytes
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t written_ = 0, synced_ = 0, syncs_ = 0, sync_us_ = 0;  // sync_us_: time spent in fdatasync
  bool syncing_ = false;
  Status sync_error_;
};

}  // namespace strata
