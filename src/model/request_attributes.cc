#include "model/request_attributes.h"

namespace strata {

namespace {
constexpr char kItemSep = '\x1e';
constexpr char kFieldSep = '\x1f';

std::string Clean(const std::string& s) {
  std::string out;
  for (char c : s)
    if (c != kItemSep && c != kFieldSep) out += c;
  return out;
}
}  // namespace

std::string EncodeRequestAttributes(const std::vector<RequestAttributesItem>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += kItemSep;
    out += Clean(items[i].scheduled_procedure_step_id) + kFieldSep + Clean(items[i].requested_procedure_id);
  }
  return out;
}

std::vector<RequestAttributesItem> DecodeRequestAttributes(const std::string& encoded) {
  std::vector<RequestAttributesItem> out;
  if (encoded.empty()) return out;
  size_t start = 0;
  for (;;) {
    const size_t end = encoded.find(kItemSep, start);
    const std::string item = encoded.substr(start, end == std::string::npos ? std::string::npos : end - start);
    const size_t f = item.find(kFieldSep);
    RequestAttributesItem x;
    x.scheduled_procedure_step_id = item.substr(0, f);
    if (f != std::string::npos) x.requested_procedure_id = item.substr(f + 1);
    out.push_back(std::move(x));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

}  // namespace strata
