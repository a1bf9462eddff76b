// `strata send PATH... --to HOST:PORT[,HOST:PORT...]`: C-STORE files over parallel
// associations spread round-robin over the nodes (see transfer/parallel_sender.h).
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/tls_flags.h"
#include "cli/transfer_commands.h"
#include "transfer/dicom_file_scan.h"
#include "transfer/dimse_client_init.h"
#include "transfer/parallel_sender.h"
#include "util/progress.h"

namespace strata {

CLI::App* AddSendCommand(CLI::App& app, SendArgs* a) {
  auto* cmd = app.add_subcommand("send", "C-STORE DICOM files/directories to one or more nodes in parallel");
  cmd->add_option("PATH", a->paths, "files or directories (recursive); non-DICOM files are skipped")->required();
  cmd->add_option("--to", a->to, "HOST:PORT[,HOST:PORT...] nodes; associations go round-robin over them")
      ->required()
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);  // one value per --to, repeatable
  cmd->add_option("--parallel,-j", a->parallel, "associations at once")->check(CLI::Range(1, 64));
  cmd->add_option("--aet", a->aet, "our (calling) AE title");
  cmd->add_option("--called-aet", a->called_aet, "the nodes' (called) AE title");
  cmd->add_option("--retries", a->retries, "extra attempts per file after a failure")->check(CLI::Range(0, 20));
  cmd->add_option("--timeout", a->timeout, "network timeout in seconds")->check(CLI::Range(1, 3600));
  cmd->add_flag("--quiet,-q", a->quiet, "no progress line");
  AddTlsFlags(cmd, &a->tls);
  return cmd;
}

int RunSend(const SendArgs& a) {
  InitDimseClient(a.timeout);
  SendOptions opt;
  auto nodes = ParseNodeList(a.to);
  if (!nodes.ok()) {
    std::fprintf(stderr, "strata send: %s\n", nodes.status().message().c_str());
    return 2;
  }
  opt.nodes = std::move(nodes).value();
  opt.parallel = a.parallel;
  opt.calling_aet = a.aet;
  opt.called_aet = a.called_aet;
  opt.retries = a.retries;
  opt.timeout_s = a.timeout;
  auto tls = ClientTlsLayer(a.tls);  // outlives every association below
  if (!tls.ok()) {
    std::fprintf(stderr, "strata send: %s\n", tls.status().message().c_str());
    return 2;
  }
  opt.tls = tls->get();

  auto scan = ScanForDicomFiles(a.paths);
  if (!scan.ok()) {
    std::fprintf(stderr, "strata send: %s\n", scan.status().message().c_str());
    return 2;
  }
  const auto& skipped = scan->skipped;
  for (size_t i = 0; i < skipped.size() && i < 5; ++i)
    std::fprintf(stderr, "skipped %s: %s\n", skipped[i].path.c_str(), skipped[i].reason.c_str());
  if (skipped.size() > 5) std::fprintf(stderr, "skipped %zu more files\n", skipped.size() - 5);
  std::fprintf(stderr, "strata send: %zu DICOM files (%.1f MB), %zu skipped (not DICOM); %d association(s) over %zu node(s)\n",
               scan->files.size(), scan->bytes / 1e6, skipped.size(),
               static_cast<int>(std::min<size_t>(a.parallel, std::max<size_t>(scan->files.size(), 1))),
               opt.nodes.size());
  if (scan->files.empty()) {
    std::printf("summary: nothing to send; %zu non-DICOM files skipped\n", skipped.size());
    return 1;
  }

  ProgressLine progress("send", scan->files.size(), scan->bytes, stderr);
  auto report = SendFiles(scan->files, opt, a.quiet ? nullptr : &progress);
  if (!report.ok()) {
    std::fprintf(stderr, "strata send: %s\n", report.status().message().c_str());
    return 2;
  }
  if (!a.quiet) progress.Finish();
  const SendReport& r = report.value();
  for (const auto& w : r.warning_messages) std::fprintf(stderr, "warning: %s\n", w.c_str());
  for (const auto& f : r.failures)
    std::fprintf(stderr, "FAILED %s (SOP %s): %s\n", f.path.c_str(), f.sop_instance_uid.c_str(), f.reason.c_str());
  const double s = r.seconds > 0 ? r.seconds : 1e-9;
  std::printf("summary: %llu/%llu files stored, %.1f MB in %.2f s (%.1f MB/s, %.1f images/s); %llu warnings; "
              "%zu failures; %zu non-DICOM files skipped; %d associations, %llu retries\n",
              (unsigned long long)r.stored, (unsigned long long)r.files, r.bytes / 1e6, r.seconds, r.bytes / 1e6 / s,
              r.stored / s, (unsigned long long)r.warning_messages.size(), r.failures.size(), skipped.size(), r.associations,
              (unsigned long long)r.retries);
  if (opt.nodes.size() > 1) {
    std::printf("per node:");
    for (size_t i = 0; i < opt.nodes.size(); ++i)
      std::printf(" %s=%llu", opt.nodes[i].ToString().c_str(), (unsigned long long)r.stored_per_node[i]);
    std::printf("\n");
  }
  return r.failures.empty() && r.stored == r.files ? 0 : 1;
}

}  // namespace strata
