#include "net/dimse/admission.h"

namespace strata {
namespace {

void Release(std::map<std::string, int>* m, const std::string& key) {
  auto it = m->find(key);
  if (it != m->end() && --it->second <= 0) m->erase(it);
}

int Count(const std::map<std::string, int>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

}  // namespace

bool Admission::AdmitConnection(const std::string& addr) {
  std::lock_guard<std::mutex> lk(mu_);
  if (pending_ >= opt_.max_pending || Count(pending_by_addr_, addr) >= opt_.max_pending_per_peer) return false;
  ++pending_;
  ++pending_by_addr_[addr];
  return true;
}

void Admission::ConnectionDone(const std::string& addr) {
  std::lock_guard<std::mutex> lk(mu_);
  --pending_;
  Release(&pending_by_addr_, addr);
}

std::string Admission::AdmitAssociation(const std::string& addr, const std::string& calling_ae, bool query_only) {
  std::lock_guard<std::mutex> lk(mu_);
  if (associations_ >= opt_.max_associations)
    return "limit of " + std::to_string(opt_.max_associations) + " associations reached";
  if (!query_only && storage_ >= opt_.max_associations - opt_.reserved_query_slots)
    return "the last " + std::to_string(opt_.reserved_query_slots) + " association slots are kept for C-ECHO/C-FIND";
  if (Count(assoc_by_addr_, addr) >= opt_.max_associations_per_peer)
    return "limit of " + std::to_string(opt_.max_associations_per_peer) + " associations from " + addr + " reached";
  if (Count(assoc_by_ae_, calling_ae) >= opt_.max_associations_per_ae)
    return "limit of " + std::to_string(opt_.max_associations_per_ae) + " associations for AE '" + calling_ae +
           "' reached";
  ++associations_;
  if (!query_only) ++storage_;
  ++assoc_by_addr_[addr];
  ++assoc_by_ae_[calling_ae];
  return "";
}

void Admission::AssociationDone(const std::string& addr, const std::string& calling_ae, bool query_only) {
  std::lock_guard<std::mutex> lk(mu_);
  --associations_;
  if (!query_only) --storage_;
  Release(&assoc_by_addr_, addr);
  Release(&assoc_by_ae_, calling_ae);
}

int Admission::associations() const {
  std::lock_guard<std::mutex> lk(mu_);
  return associations_;
}

}  // namespace strata
