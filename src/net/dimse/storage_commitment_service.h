// Storage Commitment Push Model SCP (PS3.4 Annex J). An N-ACTION (Action Type 1) names SOP
// Class/Instance pairs under a Transaction UID; Strata answers the N-ACTION at once, checks
// every pair, then reports in one N-EVENT-REPORT (Event Type 1 all committed, 2 some failed).
// An instance is committed only when the catalog holds it (a committed row is durable) and
// Archive::Read returns its bytes verified against their XXH3 checksum now, hot or packed.
// Failure reasons: 0x0112 no such instance, 0x0119 stored under another SOP class, 0x0110
// held but unreadable or corrupt. The report goes on the same association when the requester
// keeps it open (nothing arrives from it within kSameAssociationWaitS after the check), else,
// once that association is over, on a new one to the requester's address from the move
// destinations, with Strata proposing (and requiring) the SCP role for the class.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "net/dimse/dimse_service.h"
#include "util/status.h"

namespace strata {

inline constexpr int kSameAssociationWaitS = 1;
// Sequence items in one N-ACTION (one per referenced instance). Items also bound the nesting
// depth DCMTK's recursive parser reaches (see identifier_reader.h): 4096 levels fit the 8 MiB
// association stack (measured: 5500 parsed, 6000 overflowed). Larger requests: 0x0110.
inline constexpr int kMaxCommitmentItems = 4096;
inline constexpr size_t kMaxCommitmentBytes = 4u << 20;

struct CommitmentReport {
  std::string requester_aet, transaction_uid;
  std::vector<std::pair<std::string, std::string>> committed;  // (class, instance)
  struct Failure {
    std::string sop_class, sop_uid;
    uint16_t reason;
  };
  std::vector<Failure> failed;
  double check_seconds = 0;  // for the log line
};

// Checks every referenced instance of one request (see above for the rules).
CommitmentReport CheckCommitment(Archive* archive, const std::string& requester_aet,
                                 const std::string& transaction_uid,
                                 const std::vector<std::pair<std::string, std::string>>& refs);

// Serves one N-ACTION on ASSOC. A report not sent on ASSOC is appended to DEFERRED, for
// DeliverCommitmentReport once the association is over.
OFCondition HandleStorageCommitment(const ServiceEnv& env, T_ASC_Association* assoc, T_ASC_PresentationContextID pc,
                                    T_DIMSE_N_ActionRQ& req, AssocStats* st, std::vector<CommitmentReport>* deferred);

// Sends REPORT on a new association to the requester's configured address.
[[nodiscard]] Status DeliverCommitmentReport(const ServiceEnv& env, const CommitmentReport& report);

}  // namespace strata
