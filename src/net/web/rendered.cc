// Routes of rendered and thumbnail resources (PS3.18 10.4.1.1.3, 10.4.1.1.4):
//   .../instances/{i}/rendered, .../instances/{i}/frames/{n}/rendered,
//   .../instances/{i}/thumbnail, .../frames/{n}/thumbnail, /studies/{s}/series/{se}/thumbnail,
//   /studies/{s}/thumbnail (the middle instance of the series / of the study's first series).
//   /studies/{s}/rendered, /studies/{s}/series/{se}/rendered: every frame of every instance,
//   streamed as multipart/related; type="image/jpeg" (or image/png), one part per frame.
// JPEG unless the client prefers PNG (Accept or the `accept` query parameter).
#include <algorithm>
#include <memory>

#include "net/web/header_reader.h"
#include "net/web/http_util.h"
#include "net/web/multipart.h"
#include "net/web/render.h"
#include "net/web/request_log.h"
#include "net/web/web_context.h"
#include "util/log.h"

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

// The rendered frames of one instance, in frame order.
Result<std::vector<std::string>> RenderAllFrames(WebContext& ctx, const InstanceRecord& record,
                                                 const RenderParams& params, const std::string& media) {
  auto bytes = ReadInstance(ctx.archive, record);
  if (!bytes.ok()) return ReadFailure(bytes.status());
  STRATA_ASSIGN_OR_RETURN(DecodedInstance decoded, DecodeInstance(bytes.value()));
  STRATA_ASSIGN_OR_RETURN(codec::ImageInfo info, ImageOf(decoded));
  std::vector<std::string> out;
  for (uint32_t f = 1; f <= std::max<uint32_t>(1, info.frames); ++f) {
    STRATA_ASSIGN_OR_RETURN(std::string image, RenderFrame(decoded, f, params, media));
    out.push_back(std::move(image));
  }
  return out;
}

struct RenderStream {
  std::string boundary, part_type;
  std::vector<InstanceRecord> records;
  size_t next = 0;                  // next record to render
  std::vector<std::string> pending;  // rendered frames not yet sent
  size_t sent_in_pending = 0;
  RenderParams params;
  std::string media;
};

// Study- and series-level rendered (PS3.18 10.4.1.1.3): instance after instance, so memory
// holds one instance's frames whatever the size of the study.
void RenderMany(WebContext& ctx, const httplib::Request& req, httplib::Response& res, Scope scope) {
  auto media = ChooseMediaType(RequestAccept(req), {"image/jpeg", "image/png"});
  if (!media) return SendError(res, 406, "rendered images are available as image/jpeg or image/png");
  auto params = ParseRenderParams(req, 0);
  if (!params.ok()) return SendStatus(res, params.status());
  const std::string study = req.matches[1];
  const std::string series = scope == Scope::kSeries ? std::string(req.matches[2]) : std::string();
  Status valid = CheckUid(study, "StudyInstanceUID");
  if (valid.ok() && !series.empty()) valid = CheckUid(series, "SeriesInstanceUID");
  if (!valid.ok()) return SendStatus(res, valid);
  auto records = ctx.archive->Locate(study, series, "");
  if (!records.ok()) return SendStatus(res, records.status());
  if (records->empty()) return SendError(res, 404, scope == Scope::kSeries ? "no such series" : "no such study");
  auto st = std::make_shared<RenderStream>();
  st->boundary = NewBoundary();
  st->part_type = *media;
  st->media = *media;
  st->params = params.value();
  st->records = std::move(records).value();
  // The first instance is rendered before the status line goes out: an unreadable image is an
  // error status, not a cut-off 200.
  auto first = RenderAllFrames(ctx, st->records[0], st->params, st->media);
  if (!first.ok()) return SendStatus(res, first.status());
  st->pending = std::move(first).value();
  st->next = 1;
  res.status = 200;  // a Range header is ignored (the body is chunked)
  res.set_chunked_content_provider(
      "multipart/related; type=\"" + *media + "\"; boundary=" + st->boundary,
      [st, &ctx](size_t, httplib::DataSink& sink) -> bool {
        while (st->sent_in_pending == st->pending.size()) {
          if (st->next == st->records.size()) {
            const std::string end = BodyEnd(st->boundary);
            if (!sink.write(end.data(), end.size())) return false;
            AddStreamedBytes(end.size());
            sink.done();
            return true;
          }
          auto r = RenderAllFrames(ctx, st->records[st->next], st->params, st->media);
          if (!r.ok()) {
            spdlog::error("event=rendered_stream_failed instance={} error=\"{}\"", st->next, r.status().ToString());
            MarkStreamAborted();
            return false;  // the client sees a body without its closing boundary
          }
          st->pending = std::move(r).value();
          st->sent_in_pending = 0;
          ++st->next;
        }
        const std::string& image = st->pending[st->sent_in_pending++];
        const std::string header = PartHeader(st->boundary, st->part_type);
        if (!sink.write(header.data(), header.size()) || !sink.write(image.data(), image.size()) ||
            !sink.write(PartEnd(), 2))
          return false;
        AddStreamedBytes(header.size() + image.size() + 2);
        return true;
      });
}

}  // namespace

void RegisterRendered(Router& server, WebContext& ctx) {
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
  server.Get(series + "/rendered", [&ctx](Req q, Res r) { RenderMany(ctx, q, r, Scope::kSeries); });
  server.Get(study + "/rendered", [&ctx](Req q, Res r) { RenderMany(ctx, q, r, Scope::kStudy); });
}

}  // namespace strata::web
