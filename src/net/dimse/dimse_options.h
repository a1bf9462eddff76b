// DimseOptions: what `strata serve` configures on the DICOM port (dimse.* config keys).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace strata {

class AuditLog;

struct DimseOptions {
  std::string aet = "STRATA";
  std::string bind = "127.0.0.1";     // IPv4 or IPv6 literal; "::" listens dual-stack
  int port = 11112;
  int max_associations = 32;          // negotiated associations served at once
  int max_associations_per_peer = 8;  // ... from one network address
  int max_associations_per_ae = 8;    // ... with one calling AE title
  int reserved_query_slots = 2;       // of max_associations, kept for ECHO/FIND-only associations
  int max_pending = 64;               // connections still in their handshake
  int max_pending_per_peer = 16;      // ... from one network address
  int handshake_timeout_s = 10;       // a connection has this long to send its A-ASSOCIATE-RQ
  unsigned max_pdu = 131072;          // our receive PDU size (bytes)
  int idle_timeout_s = 60;            // an association silent this long is aborted
  size_t max_identifier_bytes = 1u << 20;  // C-FIND/GET/MOVE identifier; larger ones are refused
  int max_identifier_items = 256;     // sequence items in one identifier (bounds nesting depth)
  std::vector<std::string> allowed_calling_aets;         // empty = anyone
  std::map<std::string, std::string> move_destinations;  // AE -> host:port
  // DICOM TLS (net/dimse/tls_acceptor.h): a second port, off while tls_port is 0.
  int tls_port = 0;
  bool plain = true;  // false: no plain port, DICOM TLS only (needs tls_port)
  std::string tls_cert, tls_key, tls_ca;  // PEM files; the CA checks client certificates
  bool tls_require_client_cert = false;   // mutual TLS
  std::string tls_profile = "bcp195-nd";  // bcp195-nd (TLS 1.2+) | bcp195 (allows TLS 1.1) | bcp195-ex
  // Certificate identity (CN or subjectAltName DNS/e-mail) -> calling AE titles it may use. An
  // AE title listed here is refused to every other peer, plain port included.
  std::map<std::string, std::vector<std::string>> tls_client_aets;
  std::vector<std::string> tls_destinations;  // move destinations / commitment peers reached over TLS
  // Permissions (dimse_permissions.h): calling AE ("*" = any other) -> store|find|retrieve,
  // and -> the C-MOVE destinations it may name. Empty = no restriction.
  std::map<std::string, std::vector<std::string>> ae_permissions;
  std::map<std::string, std::vector<std::string>> move_allowed;
  AuditLog* audit = nullptr;  // the audit trail (not owned; nullptr = none)
};

}  // namespace strata
