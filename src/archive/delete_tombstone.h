// Delete tombstones kept in the cold store, so that `strata rebuild-catalog` (which sees only
// the stores) does not bring deleted instances back. The catalog's own tombstones
// (deleted_instances) are lost with the catalog; a pack entry deleted but not yet compacted
// away, an emptied pack the janitor has not removed yet and a hot file whose unlink failed
// all still hold the instance's bytes.
//
// One object per delete, "tombstones/<study>/<ms>-<hash>.json", listing each deleted
// instance's SOP Instance UID and the received time of the row deleted. A stored copy of that
// instance received at or before that time is dead; a copy received later (a store after the
// delete) is alive. Received times come from the same copies (the row's received_ms is its
// copy's), so no clock comparison between nodes is involved.
//
// Archive::Delete writes the tombstone BEFORE the rows go (a delete whose tombstone cannot be
// written is refused, nothing changed), then a second one for rows the delete found that the
// first did not name (a store racing the delete), and removes the first again if the catalog
// definitely refused the delete. Tombstones are small and are never removed otherwise.
// Thread-safe as the ColdStore is.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cold/cold_store.h"
#include "model/records.h"

namespace strata {

inline constexpr char kTombstonePrefix[] = "tombstones/";

// The key of a tombstone for INSTANCES (non-empty, one study) written at NOW_MS.
std::string TombstoneKey(const std::string& study_uid, int64_t now_ms, const std::vector<InstanceRecord>& instances);
// Writes the tombstone of INSTANCES under KEY (durably, one Put).
[[nodiscard]] Status WriteTombstone(ColdStore* cold, const std::string& key,
                                    const std::vector<InstanceRecord>& instances);
// Every tombstone in COLD: SOP Instance UID -> the latest received time deleted. A tombstone
// that does not parse is kCorruption (a rebuild must not guess what was deleted).
[[nodiscard]] Result<std::map<std::string, int64_t>> ReadTombstones(ColdStore* cold);

}  // namespace strata
