#include "net/web/migration_errors.h"

#include <algorithm>
#include <cctype>

namespace strata::web {
namespace {

bool Has(const std::string& lower, const char* needle) { return lower.find(needle) != std::string::npos; }

}  // namespace

MigrationProblem ExplainMigrationError(const std::string& error) {
  MigrationProblem p;
  p.detail = error;
  if (error.empty()) return p;
  std::string e = error;
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  const char* kStays = "The study stays on the hot tier (still readable) and the converter retries it on its next run";
  if (Has(e, "utf-8") || Has(e, "utf8") || Has(e, "json.exception") || Has(e, "character set")) {
    p.summary = "Patient or study names in a character set other than UTF-8 (e.g. ISO_IR 100) could not be "
                "written to the pack's index";
    p.action = std::string(kStays) + "; if it keeps failing, upgrade Strata (names are converted to UTF-8 since "
               "the character-set fix) — nothing is lost meanwhile.";
  } else if (Has(e, "interrupted")) {
    p.summary = "The converter was stopped in the middle of this study (server restart or crash); the partial "
                "pack was cleaned up";
    p.action = std::string(kStays) + ". Nothing to do.";
  } else if (Has(e, "claim") && Has(e, "lost")) {
    p.summary = "Another node took this study over (this node's claim expired while it worked)";
    p.action = "Nothing to do: the other node finishes it. If this repeats, raise tiering.lease or check the "
               "nodes' clocks.";
  } else if (Has(e, "nospace") || Has(e, "no space") || Has(e, "quota")) {
    p.summary = "A disk or the cold store ran out of space";
    p.action = std::string(kStays) + "; free space (or raise the quota) on the cold store or the server's disk.";
  } else if (Has(e, "encoder produced") || Has(e, "lossless") || Has(e, "codec") || Has(e, "decode") ||
             Has(e, "encode")) {
    p.summary = "Compressing the images failed the lossless check (the decoded pixels would differ)";
    p.action = std::string(kStays) + "; if it repeats, store this modality uncompressed (tiering.codec_by_modality, "
               "e.g. CR=none) and report the images.";
  } else if (Has(e, "bytes in the store") || Has(e, "mismatch") || Has(e, "corruption")) {
    p.summary = "The pack read back from the cold store did not match what was written";
    p.action = std::string(kStays) + "; if it repeats, check the cold store's health (disks, gateway logs).";
  } else if (Has(e, "unavailable") || Has(e, "s3") || Has(e, "curl") || Has(e, "http ") || Has(e, "connect") ||
             Has(e, "timed out") || Has(e, "timeout") || Has(e, "ceph") || Has(e, "rados")) {
    p.summary = "The cold store could not be reached or refused the upload";
    p.action = std::string(kStays) + "; check the cold store's address, credentials and health (s3.* settings).";
  } else if (Has(e, "notfound") || Has(e, "cannot read") || Has(e, "ioerror")) {
    p.summary = "An image of the study could not be read from the hot tier";
    p.action = std::string(kStays) + "; check the hot tier's disk and the server log (event=migrate_failed).";
  } else {
    p.summary = "The migration failed for an unexpected reason";
    p.action = std::string(kStays) + "; the server log (event=migrate_failed) has the details.";
  }
  return p;
}

}  // namespace strata::web
