// What `strata pack inspect|verify|extract FILE` do, on a pack file alone (no catalog).
// Contract: each function writes human-readable (or, for inspect, JSON) output to OUT and
// returns a Status the CLI turns into its exit code; a bad entry is named in both.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include "util/status.h"

namespace strata {

struct PackInspectOptions {
  bool json = false;          // one JSON object instead of text (always lists the entries)
  bool list_entries = false;  // text output: one line per entry
};

// Entry count, study metadata, sizes, transfer syntaxes, series, and problems found while
// opening. OK whenever the pack opens (use PackVerify to check the data).
Status PackInspect(const std::string& path, std::ostream& out,
                   const PackInspectOptions& options = {});

// Checks every entry (local headers, CRC-32, XXH3) and the manifest against the ZIP
// directory. OK if all is well; otherwise Corruption (IOError if only reads failed) naming
// every bad entry, each also printed on its own line.
Status PackVerify(const std::string& path, std::ostream& out);

// Writes every entry to OUT_DIR/<series>/<sop>.dcm (verified bytes only) and the manifest to
// OUT_DIR/strata-manifest.json. Entries that fail a check or have an unsafe name are not
// written; they are named in the output and the returned Status.
Status PackExtract(const std::string& path, const std::string& out_dir, std::ostream& out);

// OK if NAME is safe to create under an extraction directory: relative, no "." or ".."
// component, no empty component, no backslash or NUL, and either <uid>/<uid>.dcm or the
// manifest's name.
Status CheckExtractName(std::string_view name);

}  // namespace strata
