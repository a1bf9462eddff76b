// `strata update --study UID --set Keyword=VALUE [--set ...] [--reason TEXT]` and
// `strata update --merge-patient FROM_ID --into TO_ID [--from-issuer I] [--into-issuer I]`:
// corrections of patient/study attributes (archive/correction.h). The catalog answers with
// the new values at once on every node; retrievals serve the stored bytes patched. Exit 0
// done (one line per changed attribute), 2 bad arguments (unknown keyword, value refused by
// its VR, malformed UID), 3 no such study or patient, 1 anything else.
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "archive/archive.h"
#include "archive/correction.h"
#include "cli/commands.h"
#include "cli/serve_command.h"

namespace strata {

void AddUpdateOptions(CLI::App* cmd, UpdateArgs* a) {
  cmd->add_option("--study", a->study, "Study Instance UID to correct");
  cmd->add_option("--set", a->sets, "Keyword=VALUE (repeatable): PatientID, IssuerOfPatientID, PatientName, "
                                    "PatientBirthDate, PatientSex, StudyDate, AccessionNumber, StudyID, "
                                    "StudyDescription, ReferringPhysicianName");
  cmd->add_option("--reason", a->reason, "why (kept with the correction records)");
  cmd->add_option("--merge-patient", a->merge_from, "PatientID of the patient to merge into --into");
  cmd->add_option("--from-issuer", a->from_issuer, "IssuerOfPatientID of --merge-patient");
  cmd->add_option("--into", a->merge_into, "PatientID of the patient that keeps the studies");
  cmd->add_option("--into-issuer", a->into_issuer, "IssuerOfPatientID of --into");
}

int RunUpdate(const Config& config, const UpdateArgs& args) {
  const bool merge = !args.merge_from.empty() || !args.merge_into.empty();
  if (merge == !args.study.empty()) {
    std::cerr << "strata update: give either --study UID --set K=V, or --merge-patient ID --into ID\n";
    return 2;
  }
  if (merge && (args.merge_from.empty() || args.merge_into.empty())) {
    std::cerr << "strata update: --merge-patient and --into go together\n";
    return 2;
  }
  if (merge && !args.sets.empty()) {
    std::cerr << "strata update: --set is for --study; a merge takes the patient values of --into\n";
    return 2;
  }
  std::vector<std::pair<std::string, std::string>> changes;
  for (const auto& s : args.sets) {
    const size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "strata update: --set wants Keyword=VALUE, got '" << s << "'\n";
      return 2;
    }
    changes.emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }
  if (!merge) {
    // Bad arguments are told before the archive is opened.
    auto parsed = ParseCorrections(changes);
    if (!parsed.ok()) {
      std::cerr << "strata update: " << parsed.status().message() << "\n";
      return 2;
    }
  }
  auto aopts = ArchiveOptionsFromConfig(config);
  if (!aopts.ok()) {
    std::cerr << "strata update: " << aopts.status().ToString() << "\n";
    return 2;
  }
  auto archive = Archive::Open(aopts.value());
  if (!archive.ok()) {
    std::cerr << "strata update: " << archive.status().ToString() << "\n";
    return 1;
  }
  const char* user = std::getenv("USER");
  const std::string who = std::string("cli:") + (user ? user : std::to_string(getuid()));
  auto r = merge ? (*archive)->MergePatients(args.merge_from, args.from_issuer, args.merge_into, args.into_issuer, who,
                                             args.reason)
                 : (*archive)->Correct(args.study, changes, who, args.reason);
  if (!r.ok()) {
    std::cerr << "strata update: " << r.status().ToString() << "\n";
    return r.status().IsNotFound() ? 3 : (r.status().code() == Status::Code::kInvalidArgument ? 2 : 1);
  }
  for (const auto& c : r.value())
    std::printf("%s study=%s %s: '%s' -> '%s'\n", c.kind.c_str(), c.study_uid.c_str(), CorrectableKeyword(c.tag).c_str(),
                c.old_value.c_str(), c.new_value.c_str());
  std::printf("%zu attribute values changed\n", r->size());
  return 0;
}

}  // namespace strata
