// WADO-URI (PS3.18 9): GET /wado?requestType=WADO&studyUID=&seriesUID=&objectUID=
//   &contentType=application/dicom|image/jpeg|image/png (a comma list; default image/jpeg)
//   &transferSyntax=UID (application/dicom; default Explicit VR Little Endian, * = as stored)
//   &frameNumber=N &windowCenter=C &windowWidth=W &rows=R &columns=C &imageQuality=Q
// for viewers that predate WADO-RS. The same reading, transcoding and rendering as WADO-RS.
#include <algorithm>

#include "dicom/transfer_syntax.h"
#include "net/web/header_reader.h"
#include "net/web/http_util.h"
#include "net/web/render.h"
#include "net/web/wado.h"
#include "net/web/web_context.h"
#include "util/strings.h"

namespace strata::web {
namespace {

// The media types of a contentType list, their parameters (";q=...") dropped.
std::vector<std::string> MediaTypes(const std::string& list) {
  std::vector<std::string> out;
  for (std::string v : SplitComma(list)) {
    if (auto semi = v.find(';'); semi != std::string::npos) v = TrimSpaces(v.substr(0, semi));
    if (!v.empty()) out.push_back(v);
  }
  return out;
}

void HandleWadoUri(WebContext& ctx, const httplib::Request& req, httplib::Response& res) {
  if (req.get_param_value("requestType") != "WADO") return SendError(res, 400, "requestType must be WADO");
  const std::string study = req.get_param_value("studyUID"), series = req.get_param_value("seriesUID"),
                    sop = req.get_param_value("objectUID");
  for (auto [uid, what] : {std::pair{&study, "studyUID"}, {&series, "seriesUID"}, {&sop, "objectUID"}}) {
    Status s = CheckUid(*uid, what);
    if (!s.ok()) return SendStatus(res, s);
  }
  // The media type: the first of contentType we can make (PS3.18 9.1.2.1.3).
  std::string media;
  const std::vector<std::string> wanted =
      req.has_param("contentType") ? MediaTypes(req.get_param_value("contentType")) : std::vector<std::string>{"image/jpeg"};
  for (const auto& w : wanted) {
    if (w == "application/dicom" || w == "image/jpeg" || w == "image/png") {
      media = w;
      break;
    }
    if (w == "*/*" || w == "image/*") {
      media = "image/jpeg";
      break;
    }
  }
  if (media.empty()) return SendError(res, 406, "contentType must be application/dicom, image/jpeg or image/png");

  auto records = ctx.archive->Locate(study, series, sop);
  if (!records.ok()) return SendStatus(res, records.status());
  if (records->empty()) return SendError(res, 404, "no such instance");
  const InstanceRecord& record = records->front();
  auto bytes = ReadInstance(ctx.archive, record);
  if (!bytes.ok()) return SendStatus(res, ReadFailure(bytes.status()));

  if (media == "application/dicom") {
    DicomAccept accept;
    const std::string ts = req.has_param("transferSyntax") ? req.get_param_value("transferSyntax") : syntax::kExplicitLE;
    if (ts == "*") accept.any_syntax = true;
    else accept.syntaxes.push_back(ts);
    auto target = TargetSyntax(StoredSyntax(record), accept);
    if (!target.ok()) return SendError(res, 406, target.status().message());
    std::string out = std::move(bytes).value();
    if (target.value() != StoredSyntax(record)) {
      auto t = TranscodePart10(out, target.value());
      if (!t.ok()) return SendStatus(res, t.status());
      out = std::move(t).value();
    }
    res.set_header("Content-Disposition", "attachment; filename=\"" + sop + ".dcm\"");
    res.set_content(std::move(out), "application/dicom");
    return;
  }

  RenderParams params;
  auto number = [&](const char* name, double* out) -> Status {
    if (!req.has_param(name)) return Status::OK();
    try {
      size_t used = 0;
      const std::string v = req.get_param_value(name);
      *out = std::stod(v, &used);
      if (used != v.size()) throw std::invalid_argument(name);
    } catch (...) {
      return Status::InvalidArgument(std::string("bad ") + name);
    }
    return Status::OK();
  };
  double center = 0, width = 0, rows = 0, columns = 0, quality = 90, frame = 1;
  for (auto [name, out] : {std::pair{"windowCenter", &center}, {"windowWidth", &width}, {"rows", &rows},
                           {"columns", &columns}, {"imageQuality", &quality}, {"frameNumber", &frame}}) {
    Status s = number(name, out);
    if (!s.ok()) return SendStatus(res, s);
  }
  if (req.has_param("windowCenter") != req.has_param("windowWidth"))
    return SendError(res, 400, "windowCenter and windowWidth go together");
  if (req.has_param("windowWidth")) {
    if (width < 1) return SendError(res, 400, "windowWidth must be >= 1");
    params.center = center;
    params.width = width;
  }
  if (rows < 0 || columns < 0 || rows > 65535 || columns > 65535 || quality < 1 || quality > 100 || frame < 1)
    return SendError(res, 400, "rows, columns, imageQuality or frameNumber out of range");
  if (rows > 0 || columns > 0) {  // one of them alone bounds that side only
    params.viewport_w = columns > 0 ? static_cast<uint32_t>(columns) : 65535;
    params.viewport_h = rows > 0 ? static_cast<uint32_t>(rows) : 65535;
  }
  params.quality = static_cast<int>(quality);
  auto decoded = DecodeInstance(bytes.value());
  if (!decoded.ok()) return SendStatus(res, decoded.status());
  auto image = RenderFrame(decoded.value(), static_cast<uint32_t>(frame), params, media);
  if (!image.ok()) return SendStatus(res, image.status());
  res.set_content(std::move(image).value(), media.c_str());
}

}  // namespace

void RegisterWadoUri(Router& server, WebContext& ctx) {
  server.Get("/wado", [&ctx](const httplib::Request& req, httplib::Response& res) { HandleWadoUri(ctx, req, res); });
}

}  // namespace strata::web
