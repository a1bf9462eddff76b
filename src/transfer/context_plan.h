// Presentation-context planning, pure logic (no network), so it is unit-tested alone.
//
// Sending: every file goes in its own transfer syntax, so each (SOP class, transfer syntax)
// combination the files use gets its own context proposing exactly that syntax (the peer
// cannot pick another, so compressed files go as they are). An association carries at most
// 128 contexts (PS3.8: odd IDs 1..255); files whose combinations do not fit in one
// association are split into groups that each do.
//
// Retrieving (C-GET): the query model plus, for each storage SOP class, one catch-all context
// for the native syntaxes and one context per other common syntax (implicit LE, the JPEG /
// JPEG-LS / JPEG 2000 / RLE families, deflate), all with us in the SCP role, so the server can
// send each instance in the syntax it stores it in.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "transfer/dicom_file_scan.h"

namespace strata {

inline constexpr size_t kMaxPresentationContexts = 128;

struct PresentationContextSpec {
  uint8_t id = 0;  // odd, 1..255
  std::string abstract_syntax;
  std::vector<std::string> transfer_syntaxes;  // in order of preference
  bool scp_role = false;                       // we act as SCP (C-STORE sub-operations of a C-GET)
};

struct StorageCombo {
  std::string sop_class;
  std::string transfer_syntax;
  auto operator<=>(const StorageCombo&) const = default;
};

struct ContextGroup {
  std::vector<StorageCombo> combos;  // sorted, distinct, at most the limit
  std::vector<size_t> files;         // indices into the input, in input order
  uint64_t bytes = 0;
};

// Splits FILES into groups whose distinct combinations each fit in MAX_CONTEXTS contexts
// (normally one group). Every file is in exactly one group; groups are ordered by their
// combinations.
std::vector<ContextGroup> GroupFilesByContexts(const std::vector<DicomFileInfo>& files,
                                               size_t max_contexts = kMaxPresentationContexts);

// One context per combination, proposing that single transfer syntax; IDs 1, 3, 5, ...
std::vector<PresentationContextSpec> StorageContexts(const std::vector<StorageCombo>& combos);

// The native syntaxes a C-GET proposes together in one catch-all context per SOP class (the
// server picks one), and the syntaxes proposed each in a context of its own.
const std::vector<std::string>& NativeSyntaxes();
const std::vector<std::string>& RetrieveExactSyntaxes();
// Common storage SOP classes, used when the server did not say which classes a study holds.
const std::vector<std::string>& DefaultRetrieveSopClasses();

// Contexts for a C-GET: MODEL (the retrieve information model, native syntaxes) first, then
// the catch-all native context of every class in SOP_CLASSES (in order, duplicates ignored),
// then the single-syntax contexts class by class while they fit in MAX_CONTEXTS.
std::vector<PresentationContextSpec> RetrieveContexts(const std::string& model,
                                                      const std::vector<std::string>& sop_classes,
                                                      size_t max_contexts = kMaxPresentationContexts);

}  // namespace strata
