// `strata send` and `strata get`: the DIMSE client commands (engine in src/transfer). They
// need no configuration file: everything comes from their flags. Each Add*Command registers
// the subcommand and its flags on APP, filling ARGS; Run* returns the process exit code
// (0 = everything transferred, 1 = something was not, 2 = bad usage).
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace strata {

// TLS to the archive (DICOM TLS port): verified against CA; CERT/KEY: our client certificate.
struct TlsArgs {
  std::string ca, cert, key, profile = "bcp195-nd";
};

struct SendArgs {
  std::vector<std::string> paths;
  std::vector<std::string> to;  // HOST:PORT[,HOST:PORT...], flag may repeat
  int parallel = 4;
  std::string aet = "STRATASCU";
  std::string called_aet = "STRATA";
  int retries = 2;
  int timeout = 60;
  bool quiet = false;
  TlsArgs tls;
};
CLI::App* AddSendCommand(CLI::App& app, SendArgs* args);
int RunSend(const SendArgs& args);

struct GetArgs {
  std::string study, series, from, out;
  int parallel = 4;
  std::string aet = "STRATASCU";
  std::string called_aet = "STRATA";
  int retries = 2;
  int timeout = 60;
  bool quiet = false;
  TlsArgs tls;
};
CLI::App* AddGetCommand(CLI::App& app, GetArgs* args);
int RunGet(const GetArgs& args);

}  // namespace strata
