// Rendered and thumbnail images (PS3.18 8.3.5, 10.4.1.1.3): one frame of a decoded instance
// through DCMTK's dcmimage (modality LUT, VOI window, MONOCHROME1 inversion, colour models),
// scaled to a viewport with its aspect ratio kept, written as PNG (DiPNGPlugin) or JPEG
// (DiJPEGPlugin). The VOI window is the `window` parameter's, else the image's first
// WindowCenter/WindowWidth, else the frame's min/max.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <httplib.h>

#include "net/web/pixels.h"
#include "util/status.h"

namespace strata::web {

struct RenderParams {
  std::optional<double> center, width;  // window=center,width[,function]
  bool sigmoid = false;                 // function: linear (default), linear-exact, sigmoid
  uint32_t viewport_w = 0, viewport_h = 0;  // 0 = the image's own size
  // viewport=vw,vh,sx,sy,sw,sh: the source region (sw/sh 0 = to the edge)
  std::optional<uint32_t> sx, sy, sw, sh;
  int quality = 90;  // JPEG quality 1..100
};

// Reads window, viewport and quality; InvalidArgument for malformed values. DEFAULT_VIEWPORT
// is used when the request has none (thumbnails).
Result<RenderParams> ParseRenderParams(const httplib::Request& req, uint32_t default_viewport = 0);

// "image/png" or "image/jpeg" bytes of frame FRAME (1-based) of D.
Result<std::string> RenderFrame(const DecodedInstance& d, uint32_t frame, const RenderParams& params,
                                const std::string& media_type);

}  // namespace strata::web
