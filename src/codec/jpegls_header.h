// Reading the NEAR parameter out of JPEG-LS codestreams (ISO/IEC 14495-1 marker segments),
// which is what tells a lossless JPEG-LS image from a near-lossless one.
#pragma once

#include <string_view>

#include "util/status.h"

namespace strata::codec {

// The largest NEAR over the codestream's scans (0: lossless). kCorruption when `codestream`
// is not a JPEG-LS codestream with at least one scan.
Result<int> JpegLsMaxNear(std::string_view codestream);

}  // namespace strata::codec
