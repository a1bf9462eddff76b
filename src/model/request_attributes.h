// The Request Attributes Sequence (0040,0275) of a series as the catalog keeps it: only the
// two attributes QIDO-RS returns by default (PS3.18 Table 10.6.3-4), Scheduled Procedure Step
// ID and Requested Procedure ID, per item, in one text column. Items are separated by
// 0x1E and the two fields of an item by 0x1F (control characters no SH value may hold).
#pragma once

#include <string>
#include <vector>

namespace strata {

struct RequestAttributesItem {
  std::string scheduled_procedure_step_id;  // (0040,0009)
  std::string requested_procedure_id;       // (0040,1001)
};

std::string EncodeRequestAttributes(const std::vector<RequestAttributesItem>& items);
// The inverse of EncodeRequestAttributes; "" is no item. Never fails (a missing field is "").
std::vector<RequestAttributesItem> DecodeRequestAttributes(const std::string& encoded);

}  // namespace strata
