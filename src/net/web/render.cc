#include "net/web/render.h"
#include "util/strings.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmimage/diregist.h>  // colour image support for DicomImage
#include <dcmtk/dcmimage/dipipng.h>
#include <dcmtk/dcmimgle/dcmimage.h>
#include <dcmtk/dcmjpeg/dipijpeg.h>

namespace strata::web {
namespace {

Result<double> ParseDouble(const std::string& s, const char* what) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end == s.c_str() || *end != '\0' || !std::isfinite(v))
    return Status::InvalidArgument(std::string("bad ") + what + " '" + s + "'");
  return v;
}

Result<uint32_t> ParseUint(const std::string& s, const char* what) {
  char* end = nullptr;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || end == s.c_str() || *end != '\0' || v < 0 || v > 65535)
    return Status::InvalidArgument(std::string("bad ") + what + " '" + s + "'");
  return static_cast<uint32_t>(v);
}

// Runs WRITE on a memory FILE* and returns what it wrote.
template <typename Write>
Result<std::string> WriteToMemory(Write write) {
  char* buf = nullptr;
  size_t len = 0;
  FILE* f = open_memstream(&buf, &len);
  if (f == nullptr) return Status::Internal("open_memstream failed");
  const bool ok = write(f);
  std::fclose(f);
  std::string out(buf ? buf : "", len);
  std::free(buf);
  if (!ok || out.empty()) return Status::Internal("DCMTK could not write the image");
  return out;
}

}  // namespace

Result<RenderParams> ParseRenderParams(const httplib::Request& req, uint32_t default_viewport) {
  RenderParams p;
  if (req.has_param("window")) {
    auto f = SplitComma(req.get_param_value("window"));
    if (f.size() < 2 || f.size() > 3) return Status::InvalidArgument("window must be center,width[,function]");
    STRATA_ASSIGN_OR_RETURN(double c, ParseDouble(f[0], "window center"));
    STRATA_ASSIGN_OR_RETURN(double w, ParseDouble(f[1], "window width"));
    if (w < 1) return Status::InvalidArgument("window width must be >= 1");
    p.center = c;
    p.width = w;
    if (f.size() == 3) {
      std::string fn = f[2];
      for (auto& ch : fn) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (fn == "sigmoid") p.sigmoid = true;
      else if (fn != "linear" && fn != "linear-exact" && fn != "linear_exact")
        return Status::InvalidArgument("window function must be linear, linear-exact or sigmoid");
    }
  }
  if (req.has_param("viewport")) {
    auto f = SplitComma(req.get_param_value("viewport"));
    if (f.size() != 2 && f.size() != 6) return Status::InvalidArgument("viewport must be vw,vh[,sx,sy,sw,sh]");
    STRATA_ASSIGN_OR_RETURN(p.viewport_w, ParseUint(f[0], "viewport width"));
    STRATA_ASSIGN_OR_RETURN(p.viewport_h, ParseUint(f[1], "viewport height"));
    if (p.viewport_w == 0 || p.viewport_h == 0) return Status::InvalidArgument("viewport sizes must be > 0");
    if (f.size() == 6) {
      STRATA_ASSIGN_OR_RETURN(uint32_t sx, ParseUint(f[2], "viewport sx"));
      STRATA_ASSIGN_OR_RETURN(uint32_t sy, ParseUint(f[3], "viewport sy"));
      STRATA_ASSIGN_OR_RETURN(uint32_t sw, ParseUint(f[4], "viewport sw"));
      STRATA_ASSIGN_OR_RETURN(uint32_t sh, ParseUint(f[5], "viewport sh"));
      p.sx = sx, p.sy = sy, p.sw = sw, p.sh = sh;
    }
  } else if (default_viewport > 0) {
    p.viewport_w = p.viewport_h = default_viewport;
  }
  if (req.has_param("quality")) {
    STRATA_ASSIGN_OR_RETURN(uint32_t q, ParseUint(req.get_param_value("quality"), "quality"));
    if (q < 1 || q > 100) return Status::InvalidArgument("quality must be 1..100");
    p.quality = static_cast<int>(q);
  }
  return p;
}

Result<std::string> RenderFrame(const DecodedInstance& d, uint32_t frame, const RenderParams& params,
                                const std::string& media_type) {
  STRATA_ASSIGN_OR_RETURN(codec::ImageInfo info, ImageOf(d));
  if (frame < 1 || frame > info.frames)
    return Status::NotFound("frame " + std::to_string(frame) + " does not exist (the instance has " +
                            std::to_string(info.frames) + ")");
  DcmDataset* ds = d.dataset();
  DicomImage image(ds, ds->getOriginalXfer(), CIF_UsePartialAccessToPixelData, frame - 1, 1);
  if (image.getStatus() != EIS_Normal)
    return Status::InvalidArgument(std::string("cannot render: ") + DicomImage::getString(image.getStatus()));

  // Source region and output size (aspect ratio kept inside the viewport).
  const unsigned long img_w = image.getWidth(), img_h = image.getHeight();
  unsigned long sx = params.sx.value_or(0), sy = params.sy.value_or(0);
  if (sx >= img_w || sy >= img_h) return Status::InvalidArgument("viewport source region outside the image");
  unsigned long sw = params.sw.value_or(0) ? *params.sw : img_w - sx;
  unsigned long sh = params.sh.value_or(0) ? *params.sh : img_h - sy;
  sw = std::min(sw, img_w - sx);
  sh = std::min(sh, img_h - sy);
  unsigned long out_w = sw, out_h = sh;
  if (params.viewport_w > 0 && params.viewport_h > 0) {
    const double s = std::min(double(params.viewport_w) / sw, double(params.viewport_h) / sh);
    out_w = std::max(1ul, static_cast<unsigned long>(std::lround(sw * s)));
    out_h = std::max(1ul, static_cast<unsigned long>(std::lround(sh * s)));
  }
  std::unique_ptr<DicomImage> scaled;
  DicomImage* out = &image;
  if (out_w != img_w || out_h != img_h || sx != 0 || sy != 0) {
    scaled.reset(image.createScaledImage(static_cast<signed long>(sx), static_cast<signed long>(sy), sw, sh, out_w,
                                         out_h, 1, 0));
    if (!scaled || scaled->getStatus() != EIS_Normal) return Status::Internal("DCMTK could not scale the image");
    out = scaled.get();
  }
  if (out->isMonochrome()) {
    if (params.center && params.width) out->setWindow(*params.center, *params.width);
    else if (out->getWindowCount() > 0) out->setWindow(0);
    else out->setMinMaxWindow();
    out->setVoiLutFunction(params.sigmoid ? EFV_Sigmoid : EFV_Linear);
  }
  if (media_type == "image/png") {
    DiPNGPlugin png;
    png.setBitsPerSample(8);
    png.setInterlaceType(E_pngInterlaceNone);
    return WriteToMemory([&](FILE* f) { return out->writePluginFormat(&png, f, 0) != 0; });
  }
  if (media_type == "image/jpeg") {
    DiJPEGPlugin jpeg;
    jpeg.setQuality(static_cast<unsigned int>(params.quality));
    jpeg.setSampling(ESS_444);
    return WriteToMemory([&](FILE* f) { return out->writePluginFormat(&jpeg, f, 0) != 0; });
  }
  return Status::InvalidArgument("cannot render as " + media_type);
}

}  // namespace strata::web
