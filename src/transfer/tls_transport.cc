#include "transfer/tls_transport.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "util/quick_ack.h"

namespace strata {
namespace {

Result<DcmTLSSecurityProfile> ProfileOf(const std::string& name) {
  // The default is the non-downgrading profile (PS3.15 B.10): TLS 1.2 or newer only. The
  // plain BCP 195 profile (B.9) still accepts TLS 1.1 and CBC-SHA suites, for old peers.
  if (name == "bcp195-nd" || name.empty()) return TSP_Profile_BCP195_ND;
  if (name == "bcp195") return TSP_Profile_BCP195;
  if (name == "bcp195-ex") return TSP_Profile_BCP195_Extended;
  return Status::InvalidArgument("TLS profile must be bcp195-nd, bcp195 or bcp195-ex, not '" + name + "'");
}

}  // namespace

Result<std::unique_ptr<DcmTLSTransportLayer>> MakeTlsLayer(const TlsSettings& s, bool server) {
  // OpenSSL's global initialisation is not thread-safe: once per process.
  static std::once_flag once;
  std::call_once(once, [] { DcmTLSTransportLayer::initializeOpenSSL(); });
  auto profile = ProfileOf(s.profile);
  if (!profile.ok()) return profile.status();
  auto layer = std::make_unique<DcmTLSTransportLayer>(server ? NET_ACCEPTOR : NET_REQUESTOR, nullptr, OFFalse);
  if (!*layer) return Status::Internal("cannot create an OpenSSL context");
  if (OFCondition c = layer->setTLSProfile(profile.value()); c.bad())
    return Status::InvalidArgument("TLS profile " + s.profile + ": " + c.text());
  if (server && (s.cert.empty() || s.key.empty()))
    return Status::InvalidArgument("a TLS port needs a certificate and its private key (dimse.tls_cert, dimse.tls_key)");
  if (s.cert.empty() != s.key.empty())
    return Status::InvalidArgument("a TLS certificate needs its private key, and a key its certificate");
  if (!s.cert.empty()) {
    if (OFCondition c = layer->setPrivateKeyFile(s.key.c_str(), DCF_Filetype_PEM); c.bad())
      return Status::IOError("TLS private key " + s.key + ": " + c.text());
    if (OFCondition c = layer->setCertificateFile(s.cert.c_str(), DCF_Filetype_PEM); c.bad())
      return Status::IOError("TLS certificate " + s.cert + ": " + c.text());
    if (!layer->checkPrivateKeyMatchesCertificate())
      return Status::InvalidArgument("TLS private key " + s.key + " does not match certificate " + s.cert);
  }
  if (!s.ca.empty()) {
    if (OFCondition c = layer->addTrustedCertificateFile(s.ca.c_str(), DCF_Filetype_PEM); c.bad())
      return Status::IOError("TLS CA file " + s.ca + ": " + c.text());
  } else if (!server || s.require_peer_cert) {
    // Without a CA nothing can be verified, and an unverified peer is no identity.
    return Status::InvalidArgument(server ? "mutual TLS needs a CA file to check client certificates against"
                                          : "a TLS destination needs a CA file to check the server against");
  }
  if (OFCondition c = layer->activateCipherSuites(); c.bad())
    return Status::Internal(std::string("TLS cipher suites: ") + c.text());
  if (server) layer->setBuiltInDHParameters();
  // Server without mutual TLS: a client certificate, if sent, is still checked against the CA.
  layer->setCertificateVerification(s.require_peer_cert ? DCV_requireCertificate
                                    : s.ca.empty()      ? DCV_ignoreCertificate
                                                        : DCV_checkCertificate);
  return layer;
}

WrappedConnection::WrappedConnection(DcmNativeSocketType sock, std::unique_ptr<DcmTransportConnection> inner,
                                     std::string prefix, bool handshake_done)
    : DcmTransportConnection(sock), inner_(std::move(inner)), prefix_(std::move(prefix)), handshake_done_(handshake_done) {
  ArmQuickAck(sock);  // the A-ASSOCIATE exchange is already a small message after a read
}

WrappedConnection::~WrappedConnection() = default;  // INNER closes its socket

OFCondition WrappedConnection::serverSideHandshake() {
  return handshake_done_ ? EC_Normal : inner_->serverSideHandshake();
}

OFCondition WrappedConnection::clientSideHandshake() {
  return handshake_done_ ? EC_Normal : inner_->clientSideHandshake();
}

ssize_t WrappedConnection::read(void* buf, size_t nbyte) {
  if (used_ < prefix_.size()) {
    const size_t k = std::min(nbyte, prefix_.size() - used_);
    std::memcpy(buf, prefix_.data() + used_, k);
    used_ += k;
    return static_cast<ssize_t>(k);
  }
  const ssize_t n = inner_->read(buf, nbyte);
  if (n > 0) ArmQuickAck(getSocket());
  return n;
}

OFBool WrappedConnection::networkDataAvailable(int timeout) {
  return used_ < prefix_.size() ? OFTrue : inner_->networkDataAvailable(timeout);
}

std::vector<std::string> PeerIdentities(DcmTransportConnection* conn) {
  std::vector<std::string> out;
  const unsigned long len = conn->getPeerCertificateLength();
  if (len == 0) return out;
  std::string der(len, '\0');
  if (conn->getPeerCertificate(der.data(), len) != len) return out;
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(len));
  if (!cert) return out;
  if (X509_NAME* subject = X509_get_subject_name(cert)) {
    const int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (i >= 0) {
      unsigned char* utf8 = nullptr;
      const int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
      if (n > 0) out.emplace_back(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
      OPENSSL_free(utf8);
    }
  }
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
    if (g->type != GEN_DNS && g->type != GEN_EMAIL) continue;
    const ASN1_IA5STRING* s = g->type == GEN_DNS ? g->d.dNSName : g->d.rfc822Name;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<size_t>(ASN1_STRING_length(s)));
  }
  GENERAL_NAMES_free(names);
  X509_free(cert);
  return out;
}

}  // namespace strata
