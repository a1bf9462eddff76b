#include "transfer/parallel_retriever.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/dimse.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>

#include "model/uid.h"
#include "transfer/c_get_scu.h"
#include "transfer/context_plan.h"
#include "transfer/scu_association.h"
#include "transfer/store_status.h"
#include "util/file_util.h"

namespace strata {
namespace {

constexpr int kConnectAttempts = 3;

struct Job {
  RetrieveUnit unit;
  int attempt = 0;  // C-GETs of these instances so far
};

class Run {
 public:
  Run(const RetrievePlan& plan, const RetrieveOptions& opt, std::string out, ProgressLine* progress)
      : plan_(plan), opt_(opt), out_(std::move(out)), progress_(progress) {
    for (const auto& s : plan.series) {
      for (const auto& sop : s.sop_uids) series_of_[sop] = s.series_uid;
      report_.per_series[s.series_uid] = {0, s.sop_uids.size()};
      report_.expected += s.sop_uids.size();
    }
    for (const auto& u : plan.units) jobs_.push_back({u, 0});
    contexts_ = RetrieveContexts(UID_GETStudyRootQueryRetrieveInformationModel,
                                 plan.sop_classes.empty() ? DefaultRetrieveSopClasses() : plan.sop_classes);
  }

  RetrieveReport Go() {
    auto t0 = std::chrono::steady_clock::now();
    const size_t workers = std::min<size_t>(std::max(opt_.parallel, 1), std::max<size_t>(jobs_.size(), 1));
    std::vector<std::thread> threads;
    for (size_t w = 0; w < workers; ++w) threads.emplace_back([this] { Worker(); });
    for (auto& t : threads) t.join();
    for (const auto& j : jobs_)  // left over: every association gave up
      for (const auto& sop : j.unit.sop_uids)
        if (!received_.count(sop)) report_.failures.push_back("not retrieved: " + sop + " (no association)");
    for (const auto& s : plan_.series)
      for (const auto& sop : s.sop_uids)
        if (!received_.count(sop)) report_.missing.push_back(sop);
    report_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return std::move(report_);
  }

 private:
  // Blocks (when WAIT) while no job is queued but some are running: they may come back.
  std::optional<Job> Pop(bool wait = true) {
    std::unique_lock<std::mutex> lk(mu_);
    if (wait) cv_.wait(lk, [&] { return !jobs_.empty() || in_flight_ == 0; });
    if (jobs_.empty()) return std::nullopt;
    Job j = std::move(jobs_.front());
    jobs_.pop_front();
    ++in_flight_;
    return j;
  }
  void Done(std::optional<Job> again, bool front = false) {
    std::lock_guard<std::mutex> lk(mu_);
    --in_flight_;
    if (again) {
      if (front) jobs_.push_front(std::move(*again));
      else jobs_.push_back(std::move(*again));
    }
    cv_.notify_all();
  }

  void Worker() {
    std::unique_ptr<ScuAssociation> assoc;
    int connect_failures = 0;
    for (;;) {
      auto job = Pop(false);
      if (!job) {  // release while idle: the server may limit concurrent associations
        if (assoc) (void)assoc->Release();  // best effort: the outcome is already decided
        assoc.reset();
        job = Pop();
        if (!job) break;
      }
      if (!assoc || !assoc->usable()) {
        assoc.reset();
        AssociationRequest req;
        req.node = opt_.node;
        req.calling_aet = opt_.calling_aet;
        req.tls = opt_.tls;
        req.called_aet = opt_.called_aet;
        req.contexts = contexts_;
        req.max_pdu = opt_.max_pdu;
        req.timeout_s = opt_.timeout_s;
        auto a = ScuAssociation::Open(req);
        if (!a.ok()) {
          Done(std::move(job), true);
          if (a.status().code() != Status::Code::kUnavailable || ++connect_failures >= kConnectAttempts) {
            Note(&report_.failures, a.status().message());
            return;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(250 << connect_failures));
          continue;
        }
        connect_failures = 0;
        assoc = std::move(a).value();
        std::lock_guard<std::mutex> lk(mu_);
        ++report_.associations;
      }
      RunJob(*assoc, std::move(*job));
    }
    if (assoc) (void)assoc->Release();  // best effort: the outcome is already decided
  }

  void RunJob(ScuAssociation& assoc, Job job) {
    const RetrieveUnit& u = job.unit;
    DimseKeys keys = {{tags::kStudyInstanceUID, opt_.study_uid}, {tags::kSeriesInstanceUID, u.series_uid}};
    std::string level = "SERIES";
    if (!u.whole_series) {
      level = "IMAGE";
      std::string list;
      for (const auto& s : u.sop_uids) list += (list.empty() ? "" : "\\") + s;
      keys.emplace_back(tags::kSOPInstanceUID, list);
    }
    GetSink sink;
    sink.path_for = [&](const std::string&, const std::string& sop) -> Result<std::string> {
      STRATA_RETURN_IF_ERROR(ValidateUid(sop, "SOP Instance UID"));
      auto it = series_of_.find(sop);
      const std::string& series = it == series_of_.end() ? u.series_uid : it->second;
      return JoinPath(JoinPath(out_, series), sop + ".dcm");
    };
    sink.stored = [&](const std::string& sop, const std::string&, uint64_t bytes) { Received(sop, bytes); };
    {
      std::lock_guard<std::mutex> lk(mu_);
      ++report_.cgets;
    }
    ++job.attempt;
    auto r = GetStudyRoot(assoc, level, keys, sink);
    std::string problem;
    if (!r.ok()) {
      problem = r.status().message();
    } else if (r->status != STATUS_Success || r->refused > 0) {
      problem = "C-GET " + level + " " + u.series_uid + " answered " + DescribeDimseStatus(r->status) +
                (r->error_comment.empty() ? "" : ": " + r->error_comment) + " (completed " +
                std::to_string(r->completed) + ", failed " + std::to_string(r->failed) + ", warning " +
                std::to_string(r->warning) + (r->refused ? ", refused by us " + std::to_string(r->refused) : "") + ")";
    }
    // What of this unit is still missing?
    std::vector<std::string> missing;
    {
      std::lock_guard<std::mutex> lk(mu_);
      for (const auto& sop : u.sop_uids)
        if (!received_.count(sop)) missing.push_back(sop);
      if (!problem.empty() && missing.empty()) {  // everything arrived all the same
        ++report_.warnings;
        report_.warning_messages.push_back(problem);
      }
    }
    if (missing.empty()) {
      Done(std::nullopt);
      return;
    }
    const std::string what = std::to_string(missing.size()) + " of " + std::to_string(u.sop_uids.size()) +
                             " instance(s) of series " + u.series_uid + " did not arrive" +
                             (problem.empty() ? "" : " (" + problem + ")");
    if (job.attempt > opt_.retries) {
      Note(&report_.failures, what + "; gave up after " + std::to_string(job.attempt) + " C-GETs");
      Done(std::nullopt);
      return;
    }
    {
      std::lock_guard<std::mutex> lk(mu_);
      ++report_.warnings;
      report_.warning_messages.push_back(what + "; asking again");
    }
    Done(Job{{u.series_uid, std::move(missing), false}, job.attempt});
  }

  void Received(const std::string& sop, uint64_t bytes) {
    bool counted = false;
    {
      std::lock_guard<std::mutex> lk(mu_);
      auto it = series_of_.find(sop);
      if (it == series_of_.end()) {
        if (unexpected_.insert(sop).second) {
          ++report_.unexpected;
          ++report_.warnings;
          report_.warning_messages.push_back("instance " + sop + " was sent but not listed by the C-FIND (kept)");
        }
      } else if (received_.insert(sop).second) {
        ++report_.received;
        report_.bytes += bytes;
        ++report_.per_series[it->second].first;
        counted = true;
      }
    }
    if (counted && progress_) progress_->Add(1, bytes);
  }

  void Note(std::vector<std::string>* list, const std::string& what) {
    std::lock_guard<std::mutex> lk(mu_);
    list->push_back(what);
  }

  const RetrievePlan& plan_;
  const RetrieveOptions& opt_;
  const std::string out_;
  ProgressLine* progress_;
  std::vector<PresentationContextSpec> contexts_;
  std::unordered_map<std::string, std::string> series_of_;  // read-only after construction
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  size_t in_flight_ = 0;
  std::set<std::string> received_, unexpected_;
  RetrieveReport report_;
};

}  // namespace

Result<RetrieveReport> ExecuteRetrieve(const RetrievePlan& plan, const RetrieveOptions& options,
                                       const std::string& out_dir, ProgressLine* progress) {
  for (const auto& s : plan.series) {
    STRATA_RETURN_IF_ERROR(ValidateUid(s.series_uid, "Series Instance UID"));
    if (Status st = MakeDirs(JoinPath(out_dir, s.series_uid)); !st.ok())
      return Status::InvalidArgument("cannot create the output directory: " + st.message());
  }
  return Run(plan, options, out_dir, progress).Go();
}

}  // namespace strata
