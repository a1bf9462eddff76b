// ForwardingCatalog: a test double that passes every call to a real Catalog, so a test
// overrides only the calls whose answers it wants to lose or fail. Does not own REAL unless
// constructed with a unique_ptr.
#pragma once

#include <memory>

#include "index/catalog.h"

namespace strata {

class ForwardingCatalog : public Catalog {
 public:
  explicit ForwardingCatalog(Catalog* real) : real_(real) {}
  explicit ForwardingCatalog(std::unique_ptr<Catalog> real) : owned_(std::move(real)), real_(owned_.get()) {}

  Result<std::vector<AddResult>> AddInstances(const std::vector<InstanceRecord>& r, bool replace) override {
    return real_->AddInstances(r, replace);
  }
  Result<InstanceRecord> GetInstance(const std::string& s) override { return real_->GetInstance(s); }
  Result<std::vector<InstanceRecord>> ListInstances(const std::string& a, const std::string& b,
                                                    const std::string& c) override {
    return real_->ListInstances(a, b, c);
  }
  Result<std::vector<AttributeValues>> Find(const Query& q) override { return real_->Find(q); }
  Result<CatalogStats> Stats() override { return real_->Stats(); }
  Result<std::vector<StudySummary>> StudiesToMigrate(const MigrationPolicy& p, int64_t n) override {
    return real_->StudiesToMigrate(p, n);
  }
  Result<int64_t> ClaimMigration(const std::string& s, const std::string& n, const std::string& k,
                                 int64_t l) override {
    return real_->ClaimMigration(s, n, k, l);
  }
  Status RenewMigration(const std::string& s, int64_t t, const std::string& st, int64_t l) override {
    return real_->RenewMigration(s, t, st, l);
  }
  Status FinishMigration(const std::string& s, int64_t t, const std::string& st, const std::string& e,
                         int64_t seen) override {
    return real_->FinishMigration(s, t, st, e, seen);
  }
  Result<std::vector<MigrationRecord>> ListMigrations(size_t l) override { return real_->ListMigrations(l); }
  Result<std::vector<bool>> SwitchToPack(const PackRecord& p, const MigrationFence& f,
                                         const std::vector<std::string>& s, const std::vector<Location>& e,
                                         const std::vector<Location>& l,
                                         const std::vector<std::string>& r) override {
    return real_->SwitchToPack(p, f, s, e, l, r);
  }
  Result<std::vector<InstanceRecord>> ListLeftoverHotFiles(size_t l) override { return real_->ListLeftoverHotFiles(l); }
  Status ClearHotPaths(const std::vector<std::string>& s) override { return real_->ClearHotPaths(s); }
  Result<std::vector<PackRecord>> ListPacks(const std::string& s) override { return real_->ListPacks(s); }
  Status DeletePackRecord(const std::string& k) override { return real_->DeletePackRecord(k); }
  Status RestorePackRecord(const PackRecord& p) override { return real_->RestorePackRecord(p); }
  Result<uint64_t> CountPackReferences(const std::string& k) override { return real_->CountPackReferences(k); }
  Result<LedgerSnapshot> ReadLedgerSnapshot() override { return real_->ReadLedgerSnapshot(); }
  Result<DeletedInstances> DeleteInstances(const std::string& a, const std::string& b, const std::string& c,
                                           const LifecycleCause& cause = {}) override {
    return real_->DeleteInstances(a, b, c, cause);
  }
  Result<DeletedInstances> DeleteInstanceList(const std::string& study_uid, const std::vector<std::string>& sops,
                                              const LifecycleCause& cause = {}) override {
    return real_->DeleteInstanceList(study_uid, sops, cause);
  }
  Result<bool> IsDeleted(const std::string& s) override { return real_->IsDeleted(s); }
  Result<std::vector<std::string>> StudiesToCompact(size_t l) override { return real_->StudiesToCompact(l); }
  Result<std::vector<InstanceRecord>> ListInstancesWithoutHeader(size_t l) override {
    return real_->ListInstancesWithoutHeader(l);
  }
  Status UpdateHeaderAttributes(const std::vector<InstanceRecord>& r) override { return real_->UpdateHeaderAttributes(r); }
  Result<size_t> RejectInstances(const std::vector<RejectionRecord>& r, const LifecycleCause& cause = {},
                                 std::vector<LifecycleEvent>* events = nullptr) override {
    return real_->RejectInstances(r, cause, events);
  }
  Result<LifecycleEventPage> ListLifecycleEvents(size_t limit, size_t offset) override {
    return real_->ListLifecycleEvents(limit, offset);
  }
  Result<RejectionRecord> GetRejection(const std::string& s) override { return real_->GetRejection(s); }
  Result<std::vector<std::string>> RejectedInStudy(const std::string& s) override { return real_->RejectedInStudy(s); }
  Result<std::vector<RejectionRecord>> RejectedBefore(int64_t b, size_t l) override {
    return real_->RejectedBefore(b, l);
  }

 protected:
  Catalog* real() { return real_; }

  Result<uint64_t> QueueUnreplicatedPacks(std::vector<std::string>* gone) override {
    return real_->QueueUnreplicatedPacks(gone);
  }
  Result<std::vector<ReplicaTask>> ReplicaTasksDue(size_t limit) override { return real_->ReplicaTasksDue(limit); }
  Status FinishReplicaTask(const std::string& k, const std::string& e, int64_t r) override {
    return real_->FinishReplicaTask(k, e, r);
  }
  Result<ReplicaQueueStats> GetReplicaQueueStats() override { return real_->GetReplicaQueueStats(); }
  Result<std::vector<ReplicaTask>> ListReplicaTasks(const std::string& s, size_t limit) override {
    return real_->ListReplicaTasks(s, limit);
  }
  Result<std::vector<CorrectionRecord>> CorrectStudy(const std::string& s,
                                                     const std::vector<std::pair<uint32_t, std::string>>& c,
                                                     const std::string& who, const std::string& why,
                                                     int64_t at_ms) override {
    return real_->CorrectStudy(s, c, who, why, at_ms);
  }
  Result<std::vector<CorrectionRecord>> MergePatients(const std::string& a, const std::string& ai,
                                                      const std::string& b, const std::string& bi,
                                                      const std::string& who, const std::string& why,
                                                      int64_t at_ms) override {
    return real_->MergePatients(a, ai, b, bi, who, why, at_ms);
  }
  Result<std::vector<CorrectionRecord>> ListCorrections(const std::string& s) override {
    return real_->ListCorrections(s);
  }

 private:
  std::unique_ptr<Catalog> owned_;
  Catalog* real_;
};

}  // namespace strata
