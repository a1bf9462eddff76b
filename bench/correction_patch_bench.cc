// strata-bench-correction: the cost of serving a corrected instance (archive/correction_patch.h)
// on a 512x512 16-bit CT slice: parse, replace, add the Original Attributes Sequence item,
// write back in the same syntax. Prints µs per instance and MB/s, against a plain copy of the
// bytes (what an uncorrected study costs on this path).
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include <dcmtk/dcmdata/dcdeftag.h>

#include "archive/correction_patch.h"
#include "codec/part10_io.h"
#include "codec/synthetic_image.h"
#include "model/attributes.h"

using namespace strata;

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 500;
  codec::SyntheticSpec spec;
  spec.rows = spec.columns = 512;
  spec.bits_stored = 12;
  spec.pattern = codec::Pattern::kCt;
  auto ff = codec::MakeSyntheticImage(spec);
  ff->getDataset()->putAndInsertString(DCM_PatientName, "Doe^John");
  ff->getDataset()->putAndInsertString(DCM_PatientID, "OLD");
  auto bytes = codec::WritePart10(*ff, *codec::FindSyntax("1.2.840.10008.1.2.1"));
  if (!bytes.ok()) return 1;
  std::vector<CorrectionRecord> recs(2);
  recs[0] = {"1.2.3", 1, tags::kPatientName, "Doe^John", "Roe^Jane", "bench", "", "correct", 1764700000000};
  recs[1] = {"1.2.3", 1, tags::kPatientID, "OLD", "NEW", "bench", "", "correct", 1764700000000};
  using Clock = std::chrono::steady_clock;
  size_t sink = 0;
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) sink += std::string(bytes.value()).size();
  auto t1 = Clock::now();
  for (int i = 0; i < n; ++i) {
    auto p = PatchPart10(bytes.value(), recs, "Strata bench");
    if (!p.ok()) {
      std::fprintf(stderr, "%s\n", p.status().ToString().c_str());
      return 1;
    }
    sink += p->size();
  }
  auto t2 = Clock::now();
  const double copy_us = std::chrono::duration<double, std::micro>(t1 - t0).count() / n;
  const double patch_us = std::chrono::duration<double, std::micro>(t2 - t1).count() / n;
  const double mb = bytes->size() / 1e6;
  std::printf("instance %zu bytes, %d runs: copy %.1f us (%.0f MB/s), patch %.1f us (%.0f MB/s) [%zu]\n",
              bytes->size(), n, copy_us, mb / (copy_us / 1e6), patch_us, mb / (patch_us / 1e6), sink % 7);
  return 0;
}
