// Consolidation: a study whose packs multiply (late images, one generation per pass) is
// brought back to one pack. The next migration of such a study builds ONE pack from the
// entries of its old packs (ranged reads, entries copied as stored, never re-encoded) plus
// its hot instances, and switches every instance from its old location to the new one in
// the same fenced transaction that retires the old pack rows; the old objects are deleted
// after that commit. Until then the rows point at the old packs, so a crash keeps everything
// readable and leaves at most an orphan for the janitor.
#pragma once

#include <cstdint>
#include <vector>

#include "model/records.h"
#include "pack/pack_writer.h"
#include "tiering/tiering_options.h"

namespace strata {

// True if the pass that adds HOT_BYTES to a study holding PACKS should carry the packs over.
bool ShouldConsolidate(const std::vector<PackRecord>& packs, uint64_t hot_bytes, const ConsolidationPolicy& policy);

// The pack entry that carries cold instance R's entry over as stored (its syntax, and the
// original's identity when the entry was transcoded).
PackEntryInfo CarriedEntryInfo(const InstanceRecord& r);

}  // namespace strata
