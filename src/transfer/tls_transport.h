// DICOM TLS (PS3.15 Annex B) over DCMTK's dcmtls (OpenSSL), for both sides of an association.
//  - TlsSettings: certificate, key, trusted CA, BCP 195 profile, whether the peer must show a
//    certificate. MakeTlsLayer turns them into a configured DcmTLSTransportLayer (the OpenSSL
//    context), or a clear error (unreadable file, key not matching the certificate, ...).
//  - WrappedConnection: a DcmTransportConnection that forwards to another one (plain TCP or
//    TLS), re-arms TCP_QUICKACK after every read (transfer/quick_ack_connection.h says why),
//    and may first serve bytes already read from the peer (the server reads the whole
//    A-ASSOCIATE-RQ through TLS before DCMTK takes the connection, see net/dimse/association).
//  - PeerIdentities: the subject CN and the DNS / e-mail subjectAltNames of the peer's
//    verified certificate (what `dimse.tls_client_aets` maps to calling AE titles).
// Threads: a layer may create connections from several threads (OpenSSL contexts are
// thread-safe once configured); one connection is used by one thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/dcmlayer.h>
#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/dcmtls/tlslayer.h>

#include "util/status.h"

namespace strata {

struct TlsSettings {
  std::string cert;              // PEM certificate (chain) we present; may be empty for a client
  std::string key;               // PEM private key of CERT
  std::string ca;                // PEM file of trusted CA certificates (peers are verified against it)
  std::string profile = "bcp195-nd";  // bcp195-nd (TLS 1.2+) | bcp195 (allows TLS 1.1) | bcp195-ex
  bool require_peer_cert = true;   // server: mutual TLS; client: always verify the server
};

// A configured layer; SERVER selects the acceptor role. InvalidArgument / IOError with the file
// named when a setting cannot be used.
Result<std::unique_ptr<DcmTLSTransportLayer>> MakeTlsLayer(const TlsSettings& settings, bool server);

class WrappedConnection : public DcmTransportConnection {
 public:
  // HANDSHAKE_DONE: INNER finished its TLS handshake already (the handshake calls are no-ops).
  WrappedConnection(DcmNativeSocketType sock, std::unique_ptr<DcmTransportConnection> inner, std::string prefix = {},
                    bool handshake_done = false);
  ~WrappedConnection() override;
  OFCondition serverSideHandshake() override;
  OFCondition clientSideHandshake() override;
  OFCondition renegotiate(const char* suite) override { return inner_->renegotiate(suite); }
  ssize_t read(void* buf, size_t nbyte) override;
  ssize_t write(void* buf, size_t nbyte) override { return inner_->write(buf, nbyte); }
  void close() override { inner_->close(); }
  void closeTransportConnection() override { inner_->closeTransportConnection(); }
  unsigned long getPeerCertificateLength() override { return inner_->getPeerCertificateLength(); }
  unsigned long getPeerCertificate(void* buf, unsigned long len) override { return inner_->getPeerCertificate(buf, len); }
  OFBool networkDataAvailable(int timeout) override;
  OFBool isTransparentConnection() override { return prefix_.size() == used_ && inner_->isTransparentConnection(); }
  OFString& dumpConnectionParameters(OFString& str) override { return inner_->dumpConnectionParameters(str); }

 private:
  std::unique_ptr<DcmTransportConnection> inner_;
  std::string prefix_;
  size_t used_ = 0;
  bool handshake_done_;  // a connection handed over with a prefix finished its handshake already
};

// CN first, then subjectAltName DNS and e-mail entries; empty when the peer sent no certificate.
std::vector<std::string> PeerIdentities(DcmTransportConnection* conn);

}  // namespace strata
