// `strata get --study UID --from HOST:PORT --out DIR`: C-FIND what the study holds, then
// C-GET it over parallel associations and check it (see transfer/parallel_retriever.h).
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/tls_flags.h"
#include "cli/transfer_commands.h"
#include "transfer/dimse_client_init.h"
#include "transfer/parallel_retriever.h"
#include "transfer/parallel_sender.h"
#include "transfer/retrieve_plan.h"
#include "util/progress.h"

namespace strata {

CLI::App* AddGetCommand(CLI::App& app, GetArgs* a) {
  auto* cmd = app.add_subcommand("get", "C-GET a study (or series) over parallel associations into DIR/<series>/<sop>.dcm");
  cmd->add_option("--study", a->study, "Study Instance UID")->required();
  cmd->add_option("--series", a->series, "only this Series Instance UID");
  cmd->add_option("--from", a->from, "HOST:PORT of the archive")->required();
  cmd->add_option("--out", a->out, "output directory")->required();
  cmd->add_option("--parallel,-j", a->parallel, "associations at once")->check(CLI::Range(1, 64));
  cmd->add_option("--aet", a->aet, "our (calling) AE title");
  cmd->add_option("--called-aet", a->called_aet, "the archive's (called) AE title");
  cmd->add_option("--retries", a->retries, "extra C-GETs for instances that did not arrive")->check(CLI::Range(0, 20));
  cmd->add_option("--timeout", a->timeout, "network timeout in seconds")->check(CLI::Range(1, 3600));
  cmd->add_flag("--quiet,-q", a->quiet, "no progress line");
  AddTlsFlags(cmd, &a->tls);
  return cmd;
}

int RunGet(const GetArgs& a) {
  InitDimseClient(a.timeout);
  RetrieveOptions opt;
  auto node = ParseNodeAddress(a.from);
  if (!node.ok()) {
    std::fprintf(stderr, "strata get: %s\n", node.status().message().c_str());
    return 2;
  }
  opt.node = node.value();
  opt.study_uid = a.study;
  opt.series_uid = a.series;
  opt.parallel = a.parallel;
  opt.calling_aet = a.aet;
  opt.called_aet = a.called_aet;
  opt.retries = a.retries;
  opt.timeout_s = a.timeout;
  auto tls = ClientTlsLayer(a.tls);  // outlives every association below
  if (!tls.ok()) {
    std::fprintf(stderr, "strata get: %s\n", tls.status().message().c_str());
    return 2;
  }
  opt.tls = tls->get();
  for (auto [v, what] : {std::pair{&a.aet, "calling AE title"}, std::pair{&a.called_aet, "called AE title"}})
    if (Status s = ValidateAeTitle(*v, what); !s.ok()) {
      std::fprintf(stderr, "strata get: %s\n", s.message().c_str());
      return 2;
    }

  auto plan = PlanRetrieve(opt);
  if (!plan.ok()) {
    std::fprintf(stderr, "strata get: %s\n", plan.status().message().c_str());
    return plan.status().code() == Status::Code::kInvalidArgument ? 2 : 1;
  }
  for (const auto& w : plan->warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  size_t whole = 0;
  for (const auto& u : plan->units) whole += u.whole_series ? 1 : 0;
  std::fprintf(stderr, "strata get: %zu series, %llu instances on %s; %zu C-GET(s) (%zu whole series, %zu instance lists) over up to %d association(s)\n",
               plan->series.size(), (unsigned long long)plan->instances, opt.node.ToString().c_str(),
               plan->units.size(), whole, plan->units.size() - whole, a.parallel);

  ProgressLine progress("get", plan->instances, 0, stderr);
  auto report = ExecuteRetrieve(plan.value(), opt, a.out, a.quiet ? nullptr : &progress);
  if (!report.ok()) {
    std::fprintf(stderr, "strata get: %s\n", report.status().message().c_str());
    return 2;
  }
  if (!a.quiet) progress.Finish();
  const RetrieveReport& r = report.value();
  for (const auto& w : r.warning_messages) std::fprintf(stderr, "warning: %s\n", w.c_str());
  for (const auto& f : r.failures) std::fprintf(stderr, "FAILED %s\n", f.c_str());
  for (const auto& m : r.missing) std::fprintf(stderr, "MISSING %s\n", m.c_str());
  for (const auto& [series, counts] : r.per_series)
    if (counts.first != counts.second)
      std::fprintf(stderr, "series %s: %llu of %llu instances\n", series.c_str(), (unsigned long long)counts.first,
                   (unsigned long long)counts.second);
  const double s = r.seconds > 0 ? r.seconds : 1e-9;
  std::printf("summary: %llu/%llu instances received in %zu series, %.1f MB in %.2f s (%.1f MB/s, %.1f images/s); "
              "%llu warnings; %zu failures; %zu missing; %d associations, %d C-GETs\n",
              (unsigned long long)r.received, (unsigned long long)r.expected, r.per_series.size(), r.bytes / 1e6,
              r.seconds, r.bytes / 1e6 / s, r.received / s, (unsigned long long)(r.warnings + plan->warnings.size()),
              r.failures.size(), r.missing.size(), r.associations, r.cgets);
  return r.missing.empty() && r.received == r.expected ? 0 : 1;
}

}  // namespace strata
