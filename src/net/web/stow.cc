#include "net/web/stow.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <future>
#include <set>

#include "dicom/dataset_reader.h"
#include "net/web/dicom_json.h"
#include "net/web/header_reader.h"
#include "net/web/http_util.h"
#include "net/web/multipart.h"
#include "net/web/web_context.h"
#include "util/file_util.h"
#include "util/log.h"

namespace strata::web {

uint16_t StowFailureReason(const Status& s) {
  switch (s.code()) {
    case Status::Code::kInvalidArgument: return kStowCannotUnderstand;
    case Status::Code::kConflict:
    case Status::Code::kAlreadyExists: return kStowDuplicate;
    case Status::Code::kNoSpace:
    case Status::Code::kUnavailable: return kStowOutOfResources;
    default: return kStowProcessingFailure;
  }
}

StowResponse BuildStowResponse(const std::vector<StowItem>& items, const std::string& base_url,
                               const std::string& target_study) {
  using nlohmann::json;
  StowResponse out;
  json referenced = json::array(), failed = json::array();
  size_t stored = 0, warned = 0, unavailable = 0;
  std::set<std::string> studies;
  auto uid = [](const std::string& v) { return v.empty() ? json{{"vr", "UI"}} : json{{"vr", "UI"}, {"Value", {v}}}; };
  for (const auto& it : items) {
    json item = json::object();
    item["00081150"] = uid(it.sop_class_uid);
    item["00081155"] = uid(it.sop_instance_uid);
    if (it.status.ok()) {
      ++stored;
      studies.insert(it.study_uid);
      item["00081190"] = {{"vr", "UR"},
                          {"Value",
                           {base_url + "/dicomweb/studies/" + it.study_uid + "/series/" + it.series_uid +
                            "/instances/" + it.sop_instance_uid}}};
      if (it.warning_reason) {
        ++warned;
        item["00081196"] = {{"vr", "US"}, {"Value", {it.warning_reason}}};
      }
      referenced.push_back(std::move(item));
    } else {
      if (it.status.code() == Status::Code::kUnavailable || it.status.code() == Status::Code::kNoSpace) ++unavailable;
      const uint16_t reason = it.failure_reason ? it.failure_reason : StowFailureReason(it.status);
      item["00081197"] = {{"vr", "US"}, {"Value", {reason}}};
      failed.push_back(std::move(item));
    }
  }
  out.body = json::object();
  const std::string study = !target_study.empty() ? target_study : studies.size() == 1 ? *studies.begin() : "";
  if (!study.empty()) out.body["00081190"] = {{"vr", "UR"}, {"Value", {base_url + "/dicomweb/studies/" + study}}};
  out.body["00081198"] = failed.empty() ? json{{"vr", "SQ"}} : json{{"vr", "SQ"}, {"Value", failed}};
  out.body["00081199"] = referenced.empty() ? json{{"vr", "SQ"}} : json{{"vr", "SQ"}, {"Value", referenced}};
  if (stored == items.size() && warned == 0) out.http_status = 200;
  else if (stored > 0) out.http_status = 202;
  else if (unavailable == items.size()) out.http_status = 503;
  else out.http_status = 409;
  return out;
}

namespace {

constexpr size_t kMetaPrefix = 64 * 1024;

// One request's parts: each streams into an incoming file, then is stored on a worker.
class StowSession {
 public:
  StowSession(Archive* archive, std::string target_study, std::string who = "")
      : archive_(archive), study_(std::move(target_study)), who_(std::move(who)) {}
  ~StowSession() {
    CloseCurrent(true);
    for (auto& f : inflight_) f.wait();
  }

  Status Begin(const std::map<std::string, std::string>& headers) {
    current_ = Part{};
    auto ct = headers.find("content-type");
    if (ct != headers.end() && ParseContentType(ct->second).type != "application/dicom") {
      current_.error = Status::InvalidArgument("part of type " + ct->second + " is not application/dicom");
      return Status::OK();
    }
    current_.path = archive_->NewIncomingPath();
    current_.fd = ::open(current_.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (current_.fd < 0) current_.error = Status::FromErrno(errno, "create " + current_.path);
    return Status::OK();
  }

  Status Data(std::string_view data) {
    if (current_.prefix.size() < kMetaPrefix)
      current_.prefix.append(data.substr(0, kMetaPrefix - current_.prefix.size()));
    if (current_.fd >= 0 && current_.error.ok()) {
      Status s = WriteAll(current_.fd, data, current_.path);
      if (!s.ok()) current_.error = s;
    }
    return Status::OK();
  }

  Status End() {
    auto meta = ParseMetaInfo(current_.prefix);
    StowItem item;
    if (meta.ok()) {
      item.sop_class_uid = meta->sop_class_uid;
      item.sop_instance_uid = meta->sop_instance_uid;
    }
    if (current_.fd >= 0 && ::close(current_.fd) != 0 && current_.error.ok())
      current_.error = Status::FromErrno(errno, "close " + current_.path);
    current_.fd = -1;
    if (!current_.error.ok()) {
      if (!current_.path.empty()) (void)RemoveFile(current_.path);  // temp part; leftovers are reconciled
      item.status = current_.error;
      inflight_.push_back(MakeReady(std::move(item)));
      current_ = Part{};
      return Status::OK();
    }
    if (inflight_.size() >= kStowParallel) Collect(1);
    inflight_.push_back(std::async(std::launch::async, [this, path = current_.path, item]() mutable {
      return Store(path, std::move(item));
    }));
    current_ = Part{};
    return Status::OK();
  }

  // The body ended or broke: the part being read (or, between parts, an unidentified one)
  // failed with ERROR; its temp file goes.
  void AbortCurrent(const Status& error) {
    StowItem item;
    auto meta = ParseMetaInfo(current_.prefix);
    if (meta.ok()) {
      item.sop_class_uid = meta->sop_class_uid;
      item.sop_instance_uid = meta->sop_instance_uid;
    }
    item.status = error;
    item.failure_reason = kStowCannotUnderstand;
    CloseCurrent(true);
    inflight_.push_back(MakeReady(std::move(item)));
  }

  // Waits for every store; the items in part order.
  std::vector<StowItem> Finish() {
    Collect(inflight_.size());
    return std::move(done_);
  }

 private:
  struct Part {
    std::string path;
    int fd = -1;
    std::string prefix;
    Status error;
  };

  static std::future<StowItem> MakeReady(StowItem item) {
    std::promise<StowItem> p;
    p.set_value(std::move(item));
    return p.get_future();
  }

  void Collect(size_t n) {
    for (size_t i = 0; i < n && !inflight_.empty(); ++i) {
      done_.push_back(inflight_.front().get());
      inflight_.pop_front();
    }
  }

  StowItem Store(const std::string& path, StowItem item) {
    if (!study_.empty()) {
      InstanceRecord rec;
      Status s = ReadInstanceAttributes(path, &rec);
      if (s.ok() && rec.study_uid != study_) {
        s = Status::InvalidArgument("instance of study " + rec.study_uid + " sent to study " + study_);
        item.failure_reason = kStowDoesNotMatch;
      }
      if (!s.ok()) {
        (void)RemoveFile(path);  // temp part; leftovers are reconciled
        item.status = s;
        return item;
      }
    }
    auto r = archive_->StoreFile(path, "", "", who_);  // WHO: recorded with a rejection note
    if (!r.ok()) {
      item.status = r.status();
      spdlog::warn("event=stow_failed sop={} error=\"{}\"", item.sop_instance_uid, r.status().ToString());
      return item;
    }
    item.sop_class_uid = r->record.sop_class_uid;
    item.sop_instance_uid = r->record.sop_uid;
    item.study_uid = r->record.study_uid;
    item.series_uid = r->record.series_uid;
    if (r->outcome == StoreResult::Outcome::kDuplicateKept) {
      item.warning_reason = kStowElementsDiscarded;
      spdlog::warn("event=duplicate_kept sop={} detail=\"{}\"", item.sop_instance_uid, r->warning);
    }
    return item;
  }

  void CloseCurrent(bool remove) {
    if (current_.fd >= 0) ::close(current_.fd);
    if (remove && !current_.path.empty()) (void)RemoveFile(current_.path);  // temp part
    current_ = Part{};
  }

  Archive* archive_;
  std::string study_;
  std::string who_;  // the requester (the stores run on other threads than the router's identity)
  Part current_;
  std::deque<std::future<StowItem>> inflight_;
  std::vector<StowItem> done_;
};

// After a malformed part the rest of the body is dropped up to this much (as DrainBody does).
constexpr size_t kMaxDrain = kMaxDrainBytes;

void HandleStow(WebContext& ctx, const httplib::Request& req, httplib::Response& res,
                const httplib::ContentReader& content_reader) {
  auto refuse = [&](int status, const std::string& message) {
    DrainBody(req, content_reader);
    SendError(res, status, message);
  };
  if (!ChooseMediaType(RequestAccept(req), {"application/dicom+json", "application/json"}))
    return refuse(406, "the STOW-RS response is available as application/dicom+json only");
  const MediaRange ct = ParseContentType(req.get_header_value("Content-Type"));
  if (ct.type != "multipart/related")
    return refuse(415, "STOW-RS takes multipart/related; type=\"application/dicom\"");
  const std::string type = ct.Param("type");
  if (!type.empty() && type != "application/dicom")
    return refuse(415, "only application/dicom parts are supported, not " + type);
  const std::string boundary = ct.Param("boundary");
  if (boundary.empty() || boundary.size() > 200) return refuse(400, "multipart/related needs a boundary");
  const std::string study = req.matches.size() > 1 ? std::string(req.matches[1]) : std::string();
  if (!study.empty()) {
    Status s = CheckUid(study, "StudyInstanceUID");
    if (!s.ok()) return refuse(400, s.message());
  }

  const Identity& id = CurrentIdentity();
  StowSession session(ctx.archive, study,
                      (id.name.empty() ? std::string("anonymous") : id.scheme + ":" + id.name) + "@" + req.remote_addr);
  MultipartReader reader(boundary, {[&](const std::map<std::string, std::string>& h) { return session.Begin(h); },
                                    [&](std::string_view d) { return session.Data(d); },
                                    [&]() { return session.End(); }});
  // After a malformed part the rest of the body is read and dropped (up to kMaxDrain), so the
  // client gets the 400; ContentReader must not be called twice.
  Status fed;
  size_t dropped = 0;
  content_reader([&](const char* data, size_t len) {
    if (fed.ok()) {
      fed = reader.Feed(std::string_view(data, len));
      return true;
    }
    dropped += len;
    return dropped <= kMaxDrain;
  });
  Status body = fed.ok() ? reader.Finish() : fed;
  if (!body.ok()) session.AbortCurrent(body);
  std::vector<StowItem> items = session.Finish();
  size_t stored = 0;
  AuditEvent& audit = CurrentAudit();  // what the router's audit record of this STOW names
  for (const auto& i : items) {
    stored += i.status.ok();
    if (!i.status.ok()) continue;
    audit.instances.push_back(i.sop_instance_uid);
    if (audit.study.empty()) audit.study = i.study_uid;
    if (audit.series.empty()) audit.series = i.series_uid;
    if (i.study_uid != audit.study) audit.study = "(several)";
    if (i.series_uid != audit.series) audit.series = "(several)";
  }
  if (!body.ok()) {
    // PS3.18 10.5.3: what was stored is reported (202, the broken part failed); a body that
    // broke before any instance was stored is a bad request.
    if (stored == 0) return SendError(res, 400, body.message());
    spdlog::warn("event=stow_body_broken stored={} error=\"{}\"", stored, body.message());
    std::string why = body.message();
    std::replace(why.begin(), why.end(), '"', '\'');
    res.set_header("Warning", "299 strata \"the request body is malformed after the stored instances: " + why + "\"");
  }
  if (items.empty()) return SendError(res, 400, "the multipart body has no parts");
  StowResponse out = BuildStowResponse(items, BaseUrl(req), study);
  res.status = out.http_status;
  if (out.http_status == 503) res.set_header("Retry-After", "30");  // e.g. a full disk: try again later
  res.set_content(DumpJson(out.body), "application/dicom+json");
}

}  // namespace

void RegisterStow(Router& server, WebContext& ctx) {
  server.Post(R"(/dicomweb/studies(?:/([^/?]+))?/?)",
              [&ctx](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
                HandleStow(ctx, req, res, reader);
              });
}

}  // namespace strata::web
