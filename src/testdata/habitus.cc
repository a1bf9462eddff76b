// Per-patient body habitus (phantoms.h), shared by every kind of image of one patient.
#include "testdata/phantoms.h"

#include <algorithm>
#include <cmath>

#include "testdata/phantom_fields.h"
#include "testdata/rng.h"

namespace strata::testdata {

using namespace phantom;

Habitus MakeHabitus(uint64_t seed, uint32_t patient) {
  Rng r({seed, patient, kHabitusStream});
  Habitus h;
  h.size = r.Uniform(0.85, 1.15);
  h.ap_ratio = r.Uniform(0.62, 0.78);
  h.fat_mm = r.Uniform(8.0, 30.0);
  for (auto& o : h.outline) {
    o[0] = 0.025 * r.Normal();
    o[1] = 0.025 * r.Normal();
  }
  h.liver_hu = r.Uniform(50, 70);
  h.contrast_hu = r.Uniform(0, 160);
  static constexpr double kFovs[] = {400.0, 420.0, 440.0, 460.0};
  h.fov_mm = kFovs[r.Int(0, 3)];
  h.sex = r.Chance(0.5) ? 'F' : 'M';
  h.birth_year = static_cast<int>(r.Int(1935, 2000));
  h.birth_month = static_cast<int>(r.Int(1, 12));
  h.birth_day = static_cast<int>(r.Int(1, 28));
  return h;
}

}  // namespace strata::testdata
