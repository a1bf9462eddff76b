#include "net/web/wado.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>

#include "archive/prefetch_reader.h"
#include "codec/syntax_table.h"
#include "codec/transcoder.h"
#include "dicom/transfer_syntax.h"
#include "net/web/dicom_json.h"
#include "net/web/header_reader.h"
#include "net/web/multipart.h"
#include "net/web/pixels.h"
#include "net/web/request_log.h"
#include "net/web/validators.h"
#include "net/web/web_context.h"
#include "util/log.h"
#include "util/strings.h"

namespace strata::web {

Result<DicomAccept> NegotiateDicom(const std::vector<MediaRange>& accept, bool single_part_ok) {
  DicomAccept out;
  bool chosen = false;
  for (const auto& r : accept) {
    bool multipart;
    if (r.type == "multipart/related") {
      const std::string type = r.Param("type");
      if (!type.empty() && type != "application/dicom") continue;
      multipart = true;
    } else if (r.type == "application/dicom" && single_part_ok) {
      multipart = false;
    } else if (r.type == "*/*" || r.type == "multipart/*") {
      multipart = true;
    } else {
      continue;
    }
    if (!chosen) {
      out.multipart = multipart;
      chosen = true;
    } else if (multipart != out.multipart) {
      continue;
    }
    const std::string ts = r.Param("transfer-syntax");
    if (ts == "*") out.any_syntax = true;
    else out.syntaxes.push_back(ts.empty() ? std::string(syntax::kExplicitLE) : ts);
  }
  if (!chosen) return Status::NotFound("no acceptable media type: DICOM instances are sent as multipart/related; type=\"application/dicom\"");
  return out;
}

Result<std::string> TargetSyntax(const std::string& stored, const DicomAccept& accept) {
  if (accept.any_syntax) return stored;
  return codec::Transcoder::ChooseSyntax(stored, accept.syntaxes);
}

namespace {

Result<std::vector<InstanceRecord>> LocateChecked(WebContext& ctx, const std::string& study, const std::string& series,
                                                  const std::string& sop) {
  STRATA_RETURN_IF_ERROR(CheckUid(study, "StudyInstanceUID"));
  if (!series.empty()) STRATA_RETURN_IF_ERROR(CheckUid(series, "SeriesInstanceUID"));
  if (!sop.empty()) STRATA_RETURN_IF_ERROR(CheckUid(sop, "SOPInstanceUID"));
  STRATA_ASSIGN_OR_RETURN(auto records, ctx.archive->Locate(study, series, sop));
  if (records.empty()) {
    const char* what = !sop.empty() ? "instance" : !series.empty() ? "series" : "study";
    return Status::NotFound(std::string("no such ") + what);
  }
  return records;
}

std::string DicomPartType(const std::string& syntax) { return "application/dicom; transfer-syntax=" + syntax; }

struct RetrieveStream {
  std::string boundary;
  std::vector<std::string> part_types;
  std::unique_ptr<PrefetchReader> reader;
  std::optional<std::string> first;
  size_t next = 0;
};

void Retrieve(WebContext& ctx, const httplib::Request& req, httplib::Response& res, const std::string& study,
              const std::string& series, const std::string& sop) {
  auto located = LocateChecked(ctx, study, series, sop);
  if (!located.ok()) return SendStatus(res, located.status());
  auto accept = NegotiateDicom(RequestAccept(req), !sop.empty());
  if (!accept.ok()) return SendError(res, 406, accept.status().message());
  std::vector<InstanceRecord> records = std::move(located).value();

  // The syntax of each part, decided before anything is sent.
  std::map<std::string, std::string> target_of;  // stored -> sent
  std::vector<std::string> targets;
  for (const auto& r : records) {
    const std::string& stored = StoredSyntax(r);
    auto it = target_of.find(stored);
    if (it == target_of.end()) {
      auto t = TargetSyntax(stored, accept.value());
      if (!t.ok())
        return SendError(res, 406, "no acceptable transfer syntax for instances stored as " + SyntaxName(stored) +
                                       ": " + t.status().message());
      it = target_of.emplace(stored, t.value()).first;
    }
    targets.push_back(it->second);
  }
  std::string variant = accept->multipart ? "retrieve|multipart" : "retrieve|single";
  for (const auto& [stored, sent] : target_of) variant += "|" + stored + ">" + sent;
  if (AnswerNotModified(req, res, records, variant)) return;
  auto transform = [target_of](const InstanceRecord& r, std::string&& bytes) -> Result<std::string> {
    const std::string& target = target_of.at(StoredSyntax(r));
    if (target == StoredSyntax(r)) return std::move(bytes);
    return TranscodePart10(bytes, target);
  };

  if (!accept->multipart) {  // one instance as a bare application/dicom body
    auto bytes = ReadInstance(ctx.archive, records[0]);
    if (!bytes.ok()) return SendStatus(res, ReadFailure(bytes.status()));
    auto out = transform(records[0], std::move(bytes).value());
    if (!out.ok()) return SendStatus(res, out.status());
    res.set_content(std::move(out).value(), DicomPartType(targets[0]).c_str());
    return;
  }

  auto st = std::make_shared<RetrieveStream>();
  st->boundary = NewBoundary();
  for (const auto& t : targets) st->part_types.push_back(DicomPartType(t));
  const size_t count = records.size();
  st->reader = std::make_unique<PrefetchReader>(ctx.archive, std::move(records), transform);
  // The first instance is read before the status line goes out, so that an unreachable cold
  // store is a 503 rather than a cut-off 200.
  auto first = st->reader->Next();
  if (!first.ok()) return SendStatus(res, ReadFailure(first.status()));
  st->first = std::move(first).value();

  // cpp-httplib answers a Range header with 206 but cannot cut a chunked body: the whole
  // body goes, so the status says so (RFC 9110 14.2: a server may ignore Range).
  res.status = 200;
  res.set_chunked_content_provider(
      "multipart/related; type=\"application/dicom\"; boundary=" + st->boundary,
      [st, count](size_t, httplib::DataSink& sink) -> bool {
        if (st->next == count) {
          const std::string end = BodyEnd(st->boundary);
          if (!sink.write(end.data(), end.size())) return false;
          AddStreamedBytes(end.size());
          sink.done();
          return true;
        }
        std::string bytes;
        if (st->first) {
          bytes = std::move(*st->first);
          st->first.reset();
        } else {
          auto r = st->reader->Next();
          if (!r.ok()) {
            spdlog::error("event=wado_stream_failed part={} error=\"{}\"", st->next, r.status().ToString());
            MarkStreamAborted();
            return false;  // the client sees a body without its closing boundary
          }
          bytes = std::move(r).value();
        }
        const std::string header = PartHeader(st->boundary, st->part_types[st->next]);
        if (!sink.write(header.data(), header.size()) || !sink.write(bytes.data(), bytes.size()) ||
            !sink.write(PartEnd(), 2))
          return false;
        AddStreamedBytes(header.size() + bytes.size() + 2);
        ++st->next;
        return true;
      },
      [st](bool) { st->reader.reset(); });
}

void Metadata(WebContext& ctx, const httplib::Request& req, httplib::Response& res, const std::string& study,
              const std::string& series, const std::string& sop) {
  auto located = LocateChecked(ctx, study, series, sop);
  if (!located.ok()) return SendStatus(res, located.status());
  if (!ChooseMediaType(RequestAccept(req), {"application/dicom+json", "application/json"}))
    return SendError(res, 406, "metadata is available as application/dicom+json only");
  // The body names BulkDataURIs under the base URL the client used.
  if (AnswerNotModified(req, res, located.value(), "metadata|" + BaseUrl(req))) return;
  auto body = ctx.metadata->Build(located.value(), BaseUrl(req));
  if (!body.ok()) return SendStatus(res, body.status());
  res.set_content(std::move(body).value(), "application/dicom+json");
}

// What a client accepts for uncompressed frames / bulk data: multipart (true), a single
// octet-stream body (false), or nothing.
std::optional<bool> NegotiateOctets(const std::vector<MediaRange>& accept, bool single_ok) {
  for (const auto& r : accept) {
    const std::string ts = r.Param("transfer-syntax");
    const bool ts_ok = ts.empty() || ts == "*" || ts == syntax::kExplicitLE;
    if (r.type == "multipart/related") {
      const std::string type = r.Param("type");
      if ((type.empty() || type == "application/octet-stream") && ts_ok) return true;
    } else if (r.type == "*/*" || r.type == "multipart/*") {
      return true;
    } else if (r.type == "application/octet-stream" && single_ok && ts_ok) {
      return false;
    }
  }
  return std::nullopt;
}

// PS3.18 Table 8.7.3-2: the image media type of a stored (compressed) syntax; "" for none.
std::string FrameMediaType(const std::string& syntax_uid) {
  namespace ts = codec::ts;
  const std::string_view s = syntax_uid;
  if (s == ts::kJpegLsLossless || s == ts::kJpegLsNearLossless) return "image/jls";
  if (s == ts::kJ2kLossless || s == ts::kJ2k) return "image/jp2";
  if (s == ts::kHtj2kLossless || s == ts::kHtj2kLosslessRpcl || s == ts::kHtj2k) return "image/jphc";
  if (s == ts::kJpegBaseline || s == ts::kJpegExtended || s == ts::kJpegLossless || s == ts::kJpegLosslessSV1)
    return "image/jpeg";
  if (s == ts::kRleLossless) return "image/x-dicom-rle";
  return "";
}

}  // namespace

Result<FrameChoice> NegotiateFrames(const std::vector<MediaRange>& accept, const std::string& stored_syntax,
                                    bool single_ok) {
  const std::string stored_media = FrameMediaType(stored_syntax);
  const bool compressed = !stored_media.empty();
  const std::string native_type = std::string("application/octet-stream; transfer-syntax=") + syntax::kExplicitLE;
  const std::string stored_octets = "application/octet-stream; transfer-syntax=" + stored_syntax;
  const std::string stored_image = stored_media + "; transfer-syntax=" + stored_syntax;
  for (const auto& r : accept) {
    const std::string ts = r.Param("transfer-syntax");
    const bool native_ok = ts.empty() || ts == "*" || ts == syntax::kExplicitLE;
    // The stored codestream: an explicit request for its syntax, or "*" (any) for it.
    const bool stored_ok = compressed && (ts == stored_syntax || ts == "*");
    if (r.type == "multipart/related") {
      const std::string type = r.Param("type");
      if (type.empty() || type == "application/octet-stream") {
        if (stored_ok && !ts.empty()) return FrameChoice{true, true, stored_octets};
        if (native_ok) return FrameChoice{true, false, native_type};
      } else if (compressed && type == stored_media && (ts.empty() || ts == stored_syntax || ts == "*")) {
        return FrameChoice{true, true, stored_image};
      }
    } else if (r.type == "*/*" || r.type == "multipart/*") {
      return FrameChoice{true, false, native_type};
    } else if (r.type == "application/octet-stream" && single_ok) {
      if (stored_ok && !ts.empty()) return FrameChoice{false, true, stored_octets};
      if (native_ok) return FrameChoice{false, false, native_type};
    } else if (single_ok && compressed && r.type == stored_media && (ts.empty() || ts == stored_syntax || ts == "*")) {
      return FrameChoice{false, true, stored_image};
    }
  }
  std::string offer = "frames are sent uncompressed as multipart/related; type=\"application/octet-stream\"";
  if (compressed) offer += ", or as stored (" + stored_media + ", transfer-syntax=" + stored_syntax + ")";
  return Status::NotFound(offer);
}

namespace {

void SendOctetParts(httplib::Response& res, const std::vector<std::string>& parts, bool multipart,
                    const std::string& type = std::string("application/octet-stream; transfer-syntax=") +
                                              syntax::kExplicitLE) {
  if (!multipart) {
    res.set_content(parts[0], type.c_str());
    return;
  }
  const std::string boundary = NewBoundary();
  std::string body;
  for (const auto& p : parts) {
    body += PartHeader(boundary, type);
    body += p;
    body += PartEnd();
  }
  body += BodyEnd(boundary);
  const std::string media = type.substr(0, type.find(';'));
  res.set_content(std::move(body), ("multipart/related; type=\"" + media + "\"; boundary=" + boundary).c_str());
}

Result<std::vector<uint32_t>> ParseFrameList(const std::string& list) {
  std::vector<uint32_t> out;
  for (const std::string& f : SplitComma(list)) {
    if (f.empty() || f.size() > 9 || !std::all_of(f.begin(), f.end(), [](unsigned char c) { return std::isdigit(c); }))
      return Status::InvalidArgument("frame numbers must be positive integers separated by commas, not '" + list + "'");
    const uint32_t n = static_cast<uint32_t>(std::stoul(f));
    if (n == 0) return Status::InvalidArgument("frame numbers start at 1");
    out.push_back(n);
  }
  return out;
}

void Frames(WebContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto frames = ParseFrameList(req.matches[4]);
  if (!frames.ok()) return SendStatus(res, frames.status());
  auto located = LocateChecked(ctx, req.matches[1], req.matches[2], req.matches[3]);
  if (!located.ok()) return SendStatus(res, located.status());
  auto choice = NegotiateFrames(RequestAccept(req), StoredSyntax(located->front()), frames->size() == 1);
  if (!choice.ok()) return SendError(res, 406, choice.status().message());
  auto bytes = ReadInstance(ctx.archive, located->front());
  if (!bytes.ok()) return SendStatus(res, ReadFailure(bytes.status()));
  // A client that takes the stored codestream gets it without a decode (viewers decode
  // in the browser); the others get native frames.
  auto decoded = DecodeInstance(bytes.value(), /*decode_pixels=*/!choice->stored);
  if (!decoded.ok()) return SendStatus(res, decoded.status());
  std::vector<std::string> parts;
  if (choice->stored) {
    auto stored = StoredFrames(decoded.value(), frames.value());
    if (!stored.ok()) return SendStatus(res, stored.status());
    parts = std::move(stored).value();
  } else {
    for (uint32_t f : frames.value()) {
      auto frame = FrameBytes(decoded.value(), f);
      if (!frame.ok()) return SendStatus(res, frame.status());
      parts.push_back(std::move(frame).value());
    }
  }
  SendOctetParts(res, parts, choice->multipart, choice->part_type);
}

void BulkData(WebContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string tag_hex = req.matches[4];
  if (tag_hex.size() != 8 || !std::all_of(tag_hex.begin(), tag_hex.end(), [](unsigned char c) { return std::isxdigit(c); }))
    return SendError(res, 400, "bulk data is addressed by an 8-digit hex tag");
  const uint32_t tag = static_cast<uint32_t>(std::stoul(tag_hex, nullptr, 16));
  auto located = LocateChecked(ctx, req.matches[1], req.matches[2], req.matches[3]);
  if (!located.ok()) return SendStatus(res, located.status());
  auto multipart = NegotiateOctets(RequestAccept(req), true);
  if (!multipart) return SendError(res, 406, "bulk data is sent as multipart/related; type=\"application/octet-stream\"");
  auto bytes = ReadInstance(ctx.archive, located->front());
  if (!bytes.ok()) return SendStatus(res, ReadFailure(bytes.status()));
  auto decoded = DecodeInstance(bytes.value(), tag == kPixelDataTag);
  if (!decoded.ok()) return SendStatus(res, decoded.status());
  auto value = ElementBytes(decoded.value(), tag);
  if (!value.ok()) return SendStatus(res, value.status());
  SendOctetParts(res, {std::move(value).value()}, *multipart);
}

}  // namespace

void RegisterWadoRs(Router& server, WebContext& ctx) {
  const std::string u = kUidRe;
  const std::string study = "/dicomweb/studies/" + u;
  const std::string series = study + "/series/" + u;
  const std::string instance = series + "/instances/" + u;
  using Req = const httplib::Request&;
  using Res = httplib::Response&;
  server.Get(study, [&ctx](Req req, Res res) { Retrieve(ctx, req, res, req.matches[1], "", ""); });
  server.Get(series, [&ctx](Req req, Res res) { Retrieve(ctx, req, res, req.matches[1], req.matches[2], ""); });
  server.Get(instance,
             [&ctx](Req req, Res res) { Retrieve(ctx, req, res, req.matches[1], req.matches[2], req.matches[3]); });
  server.Get(study + "/metadata", [&ctx](Req req, Res res) { Metadata(ctx, req, res, req.matches[1], "", ""); });
  server.Get(series + "/metadata",
             [&ctx](Req req, Res res) { Metadata(ctx, req, res, req.matches[1], req.matches[2], ""); });
  server.Get(instance + "/metadata",
             [&ctx](Req req, Res res) { Metadata(ctx, req, res, req.matches[1], req.matches[2], req.matches[3]); });
  server.Get(instance + "/frames/([^/?]+)", [&ctx](Req req, Res res) { Frames(ctx, req, res); });
  server.Get(instance + "/bulkdata/([^/?]+)", [&ctx](Req req, Res res) { BulkData(ctx, req, res); });
}

}  // namespace strata::web
