// The --tls-* flags of `strata send` and `strata get`: DICOM TLS to the archive's TLS port.
#pragma once

#include <memory>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmtls/tlslayer.h>

#include "cli/transfer_commands.h"
#include "util/status.h"

namespace strata {

void AddTlsFlags(CLI::App* cmd, TlsArgs* args);
// nullptr (and OK) without --tls-ca: plain TCP. Otherwise the client layer, or why not.
Result<std::unique_ptr<DcmTLSTransportLayer>> ClientTlsLayer(const TlsArgs& args);

}  // namespace strata
