// Admission: who may take a slot on the DICOM port, so that no single peer can lock the
// others out. Two stages, both bounded overall and per peer: a connection still in its
// handshake (pending), and a negotiated association. Of max_associations, a few slots are
// kept for associations that only echo or query (a stalled modality holding every storage
// slot still leaves the RIS its C-FIND). Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "net/dimse/dimse_options.h"

namespace strata {

class Admission {
 public:
  explicit Admission(const DimseOptions& opt) : opt_(opt) {}
  // A new TCP connection from ADDR; false: over the pending bounds (close it at once).
  bool AdmitConnection(const std::string& addr);
  void ConnectionDone(const std::string& addr);
  // A negotiated association; "" = admitted, else why not (it is then rejected, transient).
  std::string AdmitAssociation(const std::string& addr, const std::string& calling_ae, bool query_only);
  void AssociationDone(const std::string& addr, const std::string& calling_ae, bool query_only);
  int associations() const;

 private:
  const DimseOptions opt_;
  mutable std::mutex mu_;
  int pending_ = 0, associations_ = 0, storage_ = 0;  // storage_: associations not query-only
  std::map<std::string, int> pending_by_addr_, assoc_by_addr_, assoc_by_ae_;
};

}  // namespace strata
