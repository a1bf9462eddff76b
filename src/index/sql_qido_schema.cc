// Schema v6: the attributes QIDO-RS returns by default (PS3.18 Tables 10.6.3-3/-4/-5) that
// the catalog had no column for, the header JSON behind `includefield`, and the backfill of
// rows catalogued before v6 (the archive reads their files and hands the values back).
#include "index/sql_catalog_internal.h"

#include "model/uid.h"

namespace strata {

const char* QidoSchemaV6() {
  return R"SQL(
ALTER TABLE studies ADD COLUMN timezone_offset TEXT NOT NULL DEFAULT '';
ALTER TABLE series ADD COLUMN pps_start_date TEXT NOT NULL DEFAULT '';
ALTER TABLE series ADD COLUMN pps_start_time TEXT NOT NULL DEFAULT '';
ALTER TABLE series ADD COLUMN request_attributes TEXT NOT NULL DEFAULT '';
ALTER TABLE instances ADD COLUMN bits_allocated BIGINT NOT NULL DEFAULT 0;
ALTER TABLE instances ADD COLUMN header_json TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS instances_no_header ON instances (pk) WHERE header_json = '';
)SQL";
}

Result<std::vector<InstanceRecord>> SqlCatalog::ListInstancesWithoutHeader(size_t limit) {
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(false));
  STRATA_ASSIGN_OR_RETURN(auto rows, conn->Query(std::string("SELECT ") + kInstanceCols + kInstanceFrom +
                                                     " WHERE i.header_json = '' ORDER BY i.pk LIMIT ?",
                                                 {static_cast<int64_t>(limit)}));
  std::vector<InstanceRecord> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(RowToInstance(r));
  return out;
}

Status SqlCatalog::UpdateHeaderAttributes(const std::vector<InstanceRecord>& records) {
  for (const auto& r : records) STRATA_RETURN_IF_ERROR(ValidateUid(r.sop_uid, "SOPInstanceUID"));
  STRATA_ASSIGN_OR_RETURN(auto conn, db_->Acquire(true));
  return InTransaction(*conn, [&]() -> Status {
    for (const auto& r : records) {
      // '{}' marks a file that had nothing to add, so that the backfill does not retry it.
      const std::string header = r.header_json.empty() ? "{}" : r.header_json;
      STRATA_ASSIGN_OR_RETURN(auto n, conn->Exec("UPDATE instances SET bits_allocated = ?, header_json = ? WHERE sop_uid = ?",
                                                 {r.bits_allocated, header, r.sop_uid}));
      if (n == 0) continue;  // deleted meanwhile
      STRATA_ASSIGN_OR_RETURN(auto n2, conn->Exec(
          "UPDATE series SET pps_start_date = CASE WHEN pps_start_date = '' THEN ? ELSE pps_start_date END,"
          " pps_start_time = CASE WHEN pps_start_time = '' THEN ? ELSE pps_start_time END,"
          " request_attributes = CASE WHEN request_attributes = '' THEN ? ELSE request_attributes END"
          " WHERE pk = (SELECT series_pk FROM instances WHERE sop_uid = ?)",
          {r.pps_start_date, r.pps_start_time, r.request_attributes, r.sop_uid}));
      STRATA_ASSIGN_OR_RETURN(auto n3, conn->Exec(
          "UPDATE studies SET timezone_offset = ? WHERE timezone_offset = ''"
          " AND pk = (SELECT study_pk FROM instances WHERE sop_uid = ?)",
          {r.timezone_offset, r.sop_uid}));
      (void)n2;
      (void)n3;
    }
    return Status::OK();
  });
}

}  // namespace strata
