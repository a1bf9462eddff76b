// Correction records kept in the cold store (issue 15), so that `strata rebuild-catalog`
// (which sees only the stores) re-applies corrections and patient merges instead of restoring
// the values the stored instances carry. The catalog's `corrections` rows are lost with the
// catalog; these objects are not.
//
// One object per change, the change as it was REQUESTED (not its outcome, which only the
// catalog transaction knows): "corrections/<study>/<ms>-<hash>.json" for a correction of one
// study, "corrections/patients/<ms>-<hash>.json" for a merge (a merge names patients, not a
// study). AT_MS is the requesting node's clock, taken once; the catalog stamps the change's
// records with the same AT_MS (Catalog::CorrectStudy's at_ms), so the Original Attributes
// Sequence served after a rebuild carries the same modification time as before.
//
// Archive::Correct / MergePatients write the record BEFORE the catalog transaction, under one
// process-wide lock (so records and commits of one node are in the same order), and remove it
// again only if the catalog definitely refused the change (anything but kUnknownOutcome).
// A rebuild replays the records in (at_ms, seq, key) order, interleaved with the instances by
// received time, through the same catalog calls: a correction after a merge and a merge after
// a correction land as they did. Re-applying a record is harmless (a value already set makes
// no record; a merge whose patient is gone is kNotFound and skipped). Thread-safe as the
// ColdStore is.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cold/cold_store.h"
#include "util/status.h"

namespace strata {

inline constexpr char kCorrectionLogPrefix[] = "corrections/";

struct CorrectionChange {
  std::string kind;  // "correct" or "merge"
  int64_t at_ms = 0;  // the requesting node's clock (also the catalog records' at_ms)
  int64_t seq = 0;    // orders changes of one process made within one millisecond
  std::string who, reason;
  // kind "correct": the study and its validated changes (tag -> new value), in request order.
  std::string study_uid;
  std::vector<std::pair<uint32_t, std::string>> changes;
  // kind "merge": patient FROM into patient TO.
  std::string from_id, from_issuer, to_id, to_issuer;
};

// A new change of KIND stamped with this process's clock: AT_MS never goes backwards within
// the process and SEQ is unique in it.
CorrectionChange NewCorrectionChange(std::string kind);
// The key of CHANGE's record.
std::string CorrectionRecordKey(const CorrectionChange& change);
// The record's bytes (JSON, format "strata-correction-1") and back. A record that does not
// parse, names an unknown kind, a malformed UID or tag, is kCorruption: a rebuild must not
// guess what was changed.
std::string SerializeCorrectionChange(const CorrectionChange& change);
[[nodiscard]] Result<CorrectionChange> ParseCorrectionChange(const std::string& bytes, const std::string& key);
// Writes CHANGE's record under KEY (durably, one Put).
[[nodiscard]] Status WriteCorrectionRecord(ColdStore* cold, const std::string& key, const CorrectionChange& change);
// Every record in COLD, in the order the changes were made (at_ms, seq, key). kCorruption if
// one does not parse; a record removed since the listing (a refused change's) is skipped.
[[nodiscard]] Result<std::vector<CorrectionChange>> ReadCorrectionRecords(ColdStore* cold);

}  // namespace strata
