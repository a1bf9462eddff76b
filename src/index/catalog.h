// Catalog: the index of every instance, its query attributes and its location.
// Implementations: SqliteCatalog (embedded) and PgCatalog (PostgreSQL, several nodes).
// All methods are thread-safe. Writes are transactional: a failed call changes nothing.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "index/records.h"
#include "util/status.h"

namespace strata {

// What happened to one instance handed to AddInstances.
enum class AddOutcome {
  kAdded,      // new row
  kIdentical,  // the same SOP Instance UID with the same checksum was already there
  kConflict,   // the same SOP Instance UID with other bytes is there; nothing changed
  kReplaced,   // conflict, and replace=true: the row now points at the new bytes
};

struct AddResult {
  AddOutcome outcome = AddOutcome::kAdded;
  // For kConflict/kReplaced/kIdentical: the row as it was before this call.
  std::optional<InstanceRecord> previous;
};

// Selection of studies the converter may migrate.
struct MigrationPolicy {
  int64_t received_before_ms = 0;   // last instance received before this time (0 = any)
  std::string study_date_before;    // YYYYMMDD; StudyDate strictly older (empty = any)
  std::string study_uid;            // just this study (empty = any)
  size_t limit = 16;
};

class Catalog {
 public:
  virtual ~Catalog() = default;

  // Adds instances in ONE transaction (group commit). Each record must have valid UIDs.
  // REPLACE decides what a different-bytes duplicate does (see AddOutcome).
  virtual Result<std::vector<AddResult>> AddInstances(const std::vector<InstanceRecord>& records,
                                                      bool replace) = 0;
  virtual Result<InstanceRecord> GetInstance(const std::string& sop_uid) = 0;
  // Instances of a study / series / single instance (empty strings = not restricted),
  // ordered by series then instance number.
  virtual Result<std::vector<InstanceRecord>> ListInstances(const std::string& study_uid,
                                                            const std::string& series_uid,
                                                            const std::string& sop_uid) = 0;
  // C-FIND / QIDO-RS. Returns, per match, every indexed attribute of the query level and
  // the levels above it (callers pick what to return); computed attributes included.
  virtual Result<std::vector<AttributeValues>> Find(const Query& query) = 0;
  virtual Result<CatalogStats> Stats() = 0;

  // --- tiering -------------------------------------------------------------------------
  // Studies that match POLICY, have hot instances and no live claim.
  virtual Result<std::vector<StudySummary>> StudiesToMigrate(const MigrationPolicy& policy,
                                                             int64_t now_ms) = 0;
  // Takes (or renews) the migration claim of a study for NODE until LEASE_UNTIL; fails with
  // kConflict if another node holds an unexpired claim. PACK_KEY is recorded before upload so
  // a crash leaves a trail to clean up.
  virtual Status ClaimMigration(const std::string& study_uid, const std::string& node,
                                const std::string& pack_key, int64_t now_ms,
                                int64_t lease_until_ms) = 0;
  // Records STATE (and ERROR) of a migration NODE holds; LEASE_UNTIL_MS > 0 also extends the
  // lease. kConflict if NODE no longer holds it.
  virtual Status UpdateMigration(const std::string& study_uid, const std::string& node,
                                 const std::string& state, const std::string& error,
                                 int64_t now_ms, int64_t lease_until_ms = 0) = 0;
  virtual Result<std::vector<MigrationRecord>> ListMigrations(size_t limit) = 0;
  // Switches the given instances to their cold locations and records the pack, in ONE
  // transaction. Only instances still pointing at the hot path given in EXPECTED_HOT_PATHS
  // (same order as LOCATIONS) are switched; the result says which were. The hot path stays in
  // the row (tier = cold) until ClearHotPaths says the hot file is gone, so a crash between
  // the switch and the deletion leaves a trail.
  virtual Result<std::vector<bool>> SwitchToPack(const PackRecord& pack,
                                                 const std::vector<std::string>& sop_uids,
                                                 const std::vector<std::string>& expected_hot_paths,
                                                 const std::vector<Location>& locations) = 0;
  // Cold instances whose hot file may still exist (switched, not yet cleaned up).
  virtual Result<std::vector<InstanceRecord>> ListLeftoverHotFiles(size_t limit) = 0;
  virtual Status ClearHotPaths(const std::vector<std::string>& sop_uids) = 0;
  virtual Result<std::vector<PackRecord>> ListPacks(const std::string& study_uid) = 0;
  // Forgets a pack whose instances all moved elsewhere (a repack).
  virtual Status DeletePackRecord(const std::string& pack_key) = 0;
  // Number of instances whose location names PACK_KEY.
  virtual Result<uint64_t> CountPackReferences(const std::string& pack_key) = 0;
};

struct CatalogOptions {
  std::string url;  // "sqlite:/path/to/catalog.db" or "postgresql://..."
};

// Opens the catalog named by OPTIONS.url (creating/migrating the schema).
Result<std::unique_ptr<Catalog>> OpenCatalog(const CatalogOptions& options);

}  // namespace strata
