#include "cli/tls_flags.h"

#include <CLI/CLI.hpp>

#include "transfer/tls_transport.h"

namespace strata {

void AddTlsFlags(CLI::App* cmd, TlsArgs* a) {
  cmd->add_option("--tls-ca", a->ca, "speak DICOM TLS, checking the archive's certificate against this PEM CA file");
  cmd->add_option("--tls-cert", a->cert, "our PEM client certificate (mutual TLS; with --tls-key)");
  cmd->add_option("--tls-key", a->key, "the PEM private key of --tls-cert");
  cmd->add_option("--tls-profile", a->profile, "bcp195-nd (default, TLS 1.2+), bcp195 or bcp195-ex");
}

Result<std::unique_ptr<DcmTLSTransportLayer>> ClientTlsLayer(const TlsArgs& a) {
  if (a.ca.empty()) {
    if (!a.cert.empty() || !a.key.empty()) return Status::InvalidArgument("--tls-cert/--tls-key need --tls-ca");
    return std::unique_ptr<DcmTLSTransportLayer>();
  }
  return MakeTlsLayer(TlsSettings{a.cert, a.key, a.ca, a.profile, true}, /*server=*/false);
}

}  // namespace strata
