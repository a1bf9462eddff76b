// The rows the catalog keeps: what Strata knows about each instance without opening it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/attributes.h"

namespace strata {

// Where an instance's bytes are.
struct Location {
  enum class Tier { kHot = 0, kCold = 1 };
  Tier tier = Tier::kHot;
  std::string hot_path;        // kHot: path relative to the hot root
  std::string pack_key;        // kCold: object key of the pack in the cold store
  uint64_t offset = 0;         // kCold: first byte of the entry's data inside the pack
  uint64_t length = 0;         // kCold: entry data length
  std::string entry_checksum;  // kCold: XXH3-64 hex of the entry data (may differ from the
                               // original when the pack transcoded the image)
  std::string entry_syntax;    // kCold: transfer syntax of the entry
};

struct InstanceRecord;
// The transfer syntax of the bytes Archive::Read returns: the pack entry's when the converter
// transcoded it, else the syntax as received.
inline const std::string& StoredSyntax(const struct InstanceRecord& r);

// One instance with the query attributes of its patient, study and series.
struct InstanceRecord {
  // Patient
  std::string patient_id, issuer, patient_name, birth_date, sex;
  // Study
  std::string study_uid, study_date, study_time, accession, study_id, study_description,
      referring_physician;
  std::string timezone_offset;  // TimezoneOffsetFromUTC (schema v6); the study keeps its first instance's
  // Series
  std::string series_uid, modality, series_description, body_part, series_date, series_time;
  int64_t series_number = 0;  // 0 when absent
  // Schema v6 (QIDO-RS defaults): Performed Procedure Step Start Date/Time and the Request
  // Attributes Sequence encoded by model/request_attributes.h.
  std::string pps_start_date, pps_start_time, request_attributes;
  // Instance
  std::string sop_uid, sop_class_uid, transfer_syntax;
  int64_t instance_number = 0, rows = 0, columns = 0, frames = 0;
  int64_t bits_allocated = 0;  // schema v6; 0 when absent (or not yet backfilled)
  // Schema v6: the data set's attributes as DICOM JSON without bulk data (values > 1 KiB,
  // binary VRs, Pixel Data), for QIDO-RS `includefield` of attributes without a column.
  // Empty for rows not yet backfilled.
  std::string header_json;
  uint64_t size = 0;         // bytes of the Part 10 file as received
  std::string checksum;      // XXH3-64 hex of the Part 10 file as received
  // XXH3-64 hex of the data set bytes after the meta group: what a re-send of the same
  // instance keeps even when the sender (C-STORE, STOW-RS) writes another meta header.
  // Empty for rows stored before schema v2.
  std::string dataset_checksum;
  int64_t received_ms = 0;   // unix time in milliseconds
  Location location;
};

inline const std::string& StoredSyntax(const InstanceRecord& r) {
  return r.location.tier == Location::Tier::kCold && !r.location.entry_syntax.empty() ? r.location.entry_syntax
                                                                                       : r.transfer_syntax;
}

// One C-FIND / QIDO-RS match: tag -> value (already in DICOM string form).
using AttributeValues = std::map<Tag, std::string>;

// A query: the level and the keys that must match (an empty value is universal matching,
// i.e. only asks for the attribute to be returned).
struct Query {
  QueryLevel level = QueryLevel::kStudy;
  std::vector<std::pair<Tag, std::string>> keys;
  size_t limit = 0;   // 0 = no limit
  size_t offset = 0;
  // Also return, under tags::kHeaderJson, the header JSON of the match (at study and series
  // level: of its first catalogued instance), for attributes the catalog has no column for.
  bool with_header = false;
  // Study level: newest study first — StudyDate, then StudyTime, descending; studies without a
  // date last; then arrival order — instead of arrival order (the web page's study list).
  bool newest_first = false;
};

struct StudySummary {
  std::string study_uid;
  uint64_t instances = 0, bytes = 0;
  uint64_t hot_instances = 0, cold_instances = 0;
  int64_t last_received_ms = 0;
  std::string study_date;
};

struct CatalogStats {
  uint64_t patients = 0, studies = 0, series = 0, instances = 0;
  uint64_t hot_instances = 0, hot_bytes = 0, cold_instances = 0, cold_bytes = 0;
  uint64_t packs = 0, pack_bytes = 0;
};

// A pack object as the catalog records it.
struct PackRecord {
  std::string pack_key;
  std::string study_uid;
  int64_t generation = 0;
  uint64_t size = 0;
  uint64_t entries = 0;
  std::string checksum;   // XXH3-64 of the manifest (the pack's identity)
  int64_t created_ms = 0;
};

// State of one study's migration, kept so that a crash at any step can be finished or undone.
struct MigrationRecord {
  std::string study_uid;
  std::string state;      // "claimed", "uploaded", "switched", "done", "failed"
  std::string node;       // who holds the claim
  int64_t lease_until_ms = 0;  // by the database's clock
  std::string pack_key;   // the object being written (known before upload starts)
  int64_t updated_ms = 0;
  std::string error;
  int attempts = 0;
  int64_t token = 0;      // fencing token of the current claim (see Catalog::ClaimMigration)
};

// A claim as its holder names it when it asks the catalog to act on it.
struct MigrationFence {
  std::string study_uid;
  int64_t token = 0;
};

// The ledger as of one instant (Catalog::ReadLedgerSnapshot).
struct LedgerSnapshot {
  int64_t db_now_ms = 0;
  std::vector<MigrationRecord> claims;
  std::vector<std::string> referenced_packs;  // by a pack row or an instance, sorted, unique
};

}  // namespace strata
