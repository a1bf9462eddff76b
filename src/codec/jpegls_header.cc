#include "codec/jpegls_header.h"

#include <algorithm>
#include <cstdint>

namespace strata::codec {

Result<int> JpegLsMaxNear(std::string_view s) {
  auto at = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  if (s.size() < 4 || at(0) != 0xFF || at(1) != 0xD8) return Status::Corruption("no JPEG SOI marker");
  size_t pos = 2;
  int max_near = -1;
  while (pos + 4 <= s.size()) {
    if (at(pos) != 0xFF) return Status::Corruption("JPEG-LS marker expected");
    const uint8_t marker = at(pos + 1);
    if (marker == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (marker == 0xD9) break;  // EOI
    const size_t length = (size_t{at(pos + 2)} << 8) | at(pos + 3);
    if (length < 2 || pos + 2 + length > s.size()) return Status::Corruption("truncated JPEG-LS marker segment");
    if (marker == 0xDA) {  // SOS: Ns, Ns x (Ci, Tmi), NEAR, ILV, Al/Ah
      const size_t ns = at(pos + 4);
      if (length < 6 + 2 * ns) return Status::Corruption("short JPEG-LS SOS segment");
      max_near = std::max<int>(max_near, at(pos + 5 + 2 * ns));
      // Skip the entropy-coded scan: in JPEG-LS a marker is 0xFF followed by a byte >= 0x80.
      size_t p = pos + 2 + length;
      while (p + 1 < s.size() && !(at(p) == 0xFF && at(p + 1) >= 0x80)) ++p;
      pos = p;
      continue;
    }
    pos += 2 + length;
  }
  if (max_near < 0) return Status::Corruption("JPEG-LS codestream without a scan");
  return max_near;
}

}  // namespace strata::codec
