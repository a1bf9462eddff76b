// RebuildCatalog: `strata rebuild-catalog`. Recreates the catalog's patients, studies, series,
// instances and pack rows from the stores alone, for an archive whose catalog was lost.
//
// Sources: every pack object under "packs/" in the cold store (its manifest, and each entry's
// bytes, verified by CRC-32 and XXH3 and then read with the reader ingest uses,
// ScanInstanceFile), and every .dcm file of the hot layout (scanned the same way; a file
// whose name does not carry its checksum is incomplete and skipped). Packs written before
// the manifest carried `received_ms`, `dataset_xxh3` and `Generation` still rebuild: their
// instances get the pack's PackedAtMs as received time, no data set checksum when the entry
// was transcoded, and generations ranked by PackedAtMs.
//
// Several copies of one instance (consolidation leftovers, late arrivals, a replaced
// duplicate): the newest verified one wins, by received time, then a pack over a hot file,
// then the higher generation, the later pack, the larger key. A winning pack entry with a hot
// file of the same bytes beside it keeps that path as the row's hot-path trail, as the switch
// left it (the janitor removes the file). Pack rows are recreated for the packs some instance
// references; other packs stay unreferenced for the janitor. Rows are added in received
// order, so patient and study attributes come from the same first instance as before.
//
// Deleted instances: a copy that a delete tombstone in the cold store names
// (archive/delete_tombstone.h) and that was received at or before the deleted row is left out,
// so a pack entry deleted but not yet compacted, an emptied pack the janitor has not removed
// and a hot file whose unlink failed stay deleted. A tombstone that does not parse ends the
// run (kCorruption): guessing could resurrect or lose instances.
//
// Corrections and patient merges: the records in the cold store (archive/correction_log.h)
// are re-applied in the order they were made, each after the instances received up to its
// time, through the catalog calls that made them and with their times, so queries answer and
// retrievals serve (Original Attributes Sequence included) what they did before. A record
// that does not parse ends the run (kCorruption). Rejections: every stored IOCM rejection
// note (a Key Object Selection Document, archive/rejection.h) is read back and its rejection
// recorded again; the grace period before the rejected instances are deleted restarts.
//
// Contract: the catalog must be empty (InvalidArgument otherwise) and no node may run on the
// archive meanwhile. Nothing in the stores is changed or deleted. A bad pack, entry or file is
// reported in RebuildReport::problems and skipped; a catalog or store failure ends the run
// with that error, leaving a partly filled catalog to delete before running again. Holds one
// record per stored copy in memory (about 1 KB each).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "archive/archive.h"

namespace strata {

struct RebuildOptions {
  size_t batch = 500;  // instances per catalog transaction
  std::function<void(const std::string& what, uint64_t done, uint64_t total)> progress;
};

struct RebuildReport {
  uint64_t packs = 0;            // pack objects opened
  uint64_t pack_entries = 0;     // entries read and verified
  uint64_t hot_files = 0;        // hot files scanned
  uint64_t instances = 0;        // rows added
  uint64_t studies = 0;
  uint64_t packs_referenced = 0; // pack rows added
  uint64_t superseded = 0;       // copies that lost to a newer one
  uint64_t trails = 0;           // hot files kept as a packed row's trail
  uint64_t deleted = 0;          // copies of deleted instances (a tombstone names them), left out
  uint64_t corrections_replayed = 0;  // correction/merge records re-applied (archive/correction_log.h)
  uint64_t corrections_skipped = 0;   // records whose study or patient is gone (kNotFound)
  uint64_t rejection_notes = 0;  // stored IOCM rejection notes whose rejection was recorded again
  uint64_t rejected = 0;         // instances those notes hid
  std::vector<std::string> problems;  // skipped packs, entries and files
  bool ok() const { return problems.empty(); }
};

[[nodiscard]] Result<RebuildReport> RebuildCatalog(Archive* archive, const RebuildOptions& options = {});

}  // namespace strata
