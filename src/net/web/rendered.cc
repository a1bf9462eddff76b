// Routes of rendered and thumbnail resources (PS3.18 10.4.1.1.3, 10.4.1.1.4):
//   .../instances/{i}/rendered, .../instances/{i}/frames/{n}/rendered,
//   .../instances/{i}/thumbnail, .../frames/{n}/thumbnail, /studies/{s}/series/{se}/thumbnail,
//   /studies/{s}/thumbnail (the middle instance of the series / of the study's first series).
// JPEG unless the client prefers PNG (Accept or the `accept` query parameter).
#include <algorithm>

#include "net/web/header_reader.h"
#include "net/web/http_util.h"
#include "net/web/render.h"
#include "net/web/web_context.h"

namespace strata::web {
namespace {

constexpr uint32_t kThumbnailSize = 128;

enum class Scope { kStudy, kSeries, kInstance };

// The instance a rendered/thumbnail request is about.
Result<InstanceRecord> PickInstance(WebContext& ctx, Scope scope, const httplib::Request& req) {
  const std::string study = req.matches[1];
  const std::string series = scope >= Scope::kSeries ? std::string(req.matches[2]) : std::string();
  const std::string sop = scope == Scope::kInstance ? std::string(req.matches[3]) : std::string();
  STRATA_RETURN_IF_ERROR(CheckUid(study, "StudyInstanceUID"));
  if (!series.empty()) STRATA_RETURN_IF_ERROR(CheckUid(series, "SeriesInstanceUID"));
  if (!sop.empty()) STRATA_RETURN_IF_ERROR(CheckUid(sop, "SOPInstanceUID"));
  STRATA_ASSIGN_OR_RETURN(auto records, ctx.archive->Locate(study, series, sop));
  if (records.empty()) return Status::NotFound(scope == Scope::kInstance ? "no such instance"
                                               : scope == Scope::kSeries ? "no such series"
                                                                         : "no such study");
  if (scope == Scope::kStudy) {  // the first series (in series order) stands for the study
    const std::string first = records.front().series_uid;
    records.erase(std::remove_if(records.begin(), records.end(),
                                 [&](const InstanceRecord& r) { return r.series_uid != first; }),
                  records.end());
  }
  return records[records.size() / 2];
}

void Render(WebContext& ctx, const httplib::Request& req, httplib::Response& res, Scope scope, bool has_frame,
            bool thumbnail) {
  auto media = ChooseMediaType(RequestAccept(req), {"image/jpeg", "image/png"});
  if (!media) return SendError(res, 406, "rendered images are available as image/jpeg or image/png");
  uint32_t frame = 1;
  if (has_frame) {
    const std::string f = req.matches[4];
    if (f.empty() || f.size() > 9 || !std::all_of(f.begin(), f.end(), [](unsigned char c) { return std::isdigit(c); }) ||
        std::stoul(f) == 0)
      return SendError(res, 400, "a rendered frame is addressed by one positive frame number");
    frame = static_cast<uint32_t>(std::stoul(f));
  }
  auto params = ParseRenderParams(req, thumbnail ? kThumbnailSize : 0);
  if (!params.ok()) return SendStatus(res, params.status());
  auto record = PickInstance(ctx, scope, req);
  if (!record.ok()) return SendStatus(res, record.status());
  auto bytes = ReadInstance(ctx.archive, record.value());
  if (!bytes.ok()) return SendStatus(res, ReadFailure(bytes.status()));
  auto decoded = DecodeInstance(bytes.value());
  if (!decoded.ok()) return SendStatus(res, decoded.status());
  auto image = RenderFrame(decoded.value(), frame, params.value(), *media);
  if (!image.ok()) return SendStatus(res, image.status());
  res.set_header("Cache-Control", "private, max-age=300");
  res.set_content(std::move(image).value(), media->c_str());
}

}  // namespace

void RegisterRendered(httplib::Server& server, WebContext& ctx) {
  const std::string u = kUidRe;
  const std::string study = "/dicomweb/studies/" + u;
  const std::string series = study + "/series/" + u;
  const std::string instance = series + "/instances/" + u;
  const std::string frame = instance + "/frames/([^/?]+)";
  using Req = const httplib::Request&;
  using Res = httplib::Response&;
  server.Get(instance + "/rendered", [&ctx](Req q, Res r) { Render(ctx, q, r, Scope::kInstance, false, false); });
  server.Get(frame + "/rendered", [&ctx](Req q, Res r) { Render(ctx, q, r, Scope::kInstance, true, false); });
  server.Get(instance + "/thumbnail", [&ctx](Req q, Res r) { Render(ctx, q, r, Scope::kInstance, false, true); });
  server.Get(frame + "/thumbnail", [&ctx](Req q, Res r) { Render(ctx, q, r, Scope::kInstance, true, true); });
  server.Get(series + "/thumbnail", [&ctx](Req q, Res r) { Render(ctx, q, r, Scope::kSeries, false, true); });
  server.Get(study + "/thumbnail", [&ctx](Req q, Res r) { Render(ctx, q, r, Scope::kStudy, false, true); });
}

}  // namespace strata::web
