#include "transfer/parallel_sender.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "transfer/c_store_scu.h"
#include "transfer/context_plan.h"
#include "transfer/scu_association.h"
#include "transfer/store_status.h"
#include "transfer/work_split.h"

namespace strata {
namespace {

constexpr int kConnectAttempts = 3;

struct Item {
  size_t file;
  int attempts = 0;  // sends tried so far
};

// The shared queue. Pop() blocks while the queue is empty but files are still in flight
// (they may come back for a retry); it returns nothing once all are settled.
class WorkQueue {
 public:
  explicit WorkQueue(std::deque<Item> items) : pending_(std::move(items)) {}
  // WAIT = false: returns nothing at once when the queue is empty.
  std::optional<Item> Pop(bool wait = true) {
    std::unique_lock<std::mutex> lk(mu_);
    if (wait) cv_.wait(lk, [&] { return !pending_.empty() || in_flight_ == 0; });
    if (pending_.empty()) return std::nullopt;
    Item it = pending_.front();
    pending_.pop_front();
    ++in_flight_;
    return it;
  }
  void Settle() {
    std::lock_guard<std::mutex> lk(mu_);
    --in_flight_;
    if (in_flight_ == 0) cv_.notify_all();
  }
  // Hands an item back; FRONT for one that was not attempted (keeps group order).
  void Return(Item it, bool front) {
    std::lock_guard<std::mutex> lk(mu_);
    --in_flight_;
    if (front) pending_.push_front(it);
    else pending_.push_back(it);
    cv_.notify_all();
  }
  std::deque<Item> TakeLeftovers() {
    std::lock_guard<std::mutex> lk(mu_);
    return std::move(pending_);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> pending_;
  size_t in_flight_ = 0;
};

class Run {
 public:
  Run(const std::vector<DicomFileInfo>& files, const SendOptions& opt, ProgressLine* progress)
      : files_(files), opt_(opt), progress_(progress), groups_(GroupFilesByContexts(files)) {
    group_of_.resize(files.size());
    std::deque<Item> items;
    for (size_t g = 0; g < groups_.size(); ++g)
      for (size_t f : groups_[g].files) {
        group_of_[f] = g;
        items.push_back({f, 0});
      }
    queue_ = std::make_unique<WorkQueue>(std::move(items));
    report_.files = files.size();
    report_.stored_per_node.assign(opt.nodes.size(), 0);
  }

  SendReport Go() {
    auto t0 = std::chrono::steady_clock::now();
    const size_t workers = std::min<size_t>(static_cast<size_t>(opt_.parallel), std::max<size_t>(files_.size(), 1));
    const auto node_of = AssignNodesRoundRobin(workers, opt_.nodes.size());
    std::vector<std::thread> threads;
    for (size_t w = 0; w < workers; ++w) threads.emplace_back([this, n = node_of[w]] { Worker(n); });
    for (auto& t : threads) t.join();
    // Left in the queue: every association gave up (no node reachable).
    std::string why;
    for (const auto& [node, err] : node_errors_) why += (why.empty() ? "" : "; ") + err;
    for (const Item& it : queue_->TakeLeftovers())
      Fail(it.file, "not sent: no node could take it (" + why + ")", false);
    for (const auto& [node, err] : node_errors_)
      report_.warning_messages.push_back(err + (node_connected_.count(node) ? " (it answered at other times)"
                                                : report_.stored > 0       ? " (other nodes took its files)"
                                                                           : ""));
    std::sort(report_.failures.begin(), report_.failures.end(),
              [](const SendFailure& a, const SendFailure& b) { return a.path < b.path; });
    report_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return std::move(report_);
  }

 private:
  void Worker(size_t node) {
    std::unique_ptr<ScuAssociation> assoc;
    size_t group = SIZE_MAX;
    int connect_failures = 0;
    std::map<size_t, std::string> refused_groups;  // group -> why the node accepted none of it
    for (;;) {
      auto item = queue_->Pop(false);
      if (!item) {
        // Nothing to do right now: let go of the association before waiting, so a peer that
        // serves one association at a time (storescp without --fork) can serve the others.
        if (assoc) (void)assoc->Release();  // best effort: the outcome is already decided
        assoc.reset();
        item = queue_->Pop();
        if (!item) break;
      }
      const DicomFileInfo& f = files_[item->file];
      const size_t g = group_of_[item->file];
      if (auto r = refused_groups.find(g); r != refused_groups.end()) {
        Fail(item->file, r->second, true);
        continue;
      }
      if (!assoc || !assoc->usable() || g != group) {
        if (assoc) (void)assoc->Release();  // best effort: the outcome is already decided
        assoc.reset();
        AssociationRequest req;
        req.node = opt_.nodes[node];
        req.calling_aet = opt_.calling_aet;
        req.tls = opt_.tls;
        req.called_aet = opt_.called_aet;
        req.contexts = StorageContexts(groups_[g].combos);
        req.max_pdu = opt_.max_pdu;
        req.timeout_s = opt_.timeout_s;
        auto a = ScuAssociation::Open(req);
        if (!a.ok()) {
          if (a.status().code() == Status::Code::kNotFound) {  // no context of this group accepted
            refused_groups[g] = a.status().message();
            Fail(item->file, a.status().message(), true);
            continue;
          }
          queue_->Return(*item, true);
          NodeError(node, a.status().message());
          const bool permanent = a.status().code() == Status::Code::kInvalidArgument;
          if (permanent || ++connect_failures >= kConnectAttempts) return;
          std::this_thread::sleep_for(std::chrono::milliseconds(250 << connect_failures));
          continue;
        }
        connect_failures = 0;
        assoc = std::move(a).value();
        group = g;
        Count([&] {
          ++report_.associations;
          node_connected_.insert(node);
        });
      }
      StoreAttempt r = StoreFile(*assoc, f);
      ++item->attempts;
      using O = StoreAttempt::Outcome;
      switch (r.outcome) {
        case O::kNoContext:
        case O::kFileError:
          Fail(item->file, r.message, true);
          break;
        case O::kNetworkError:
          assoc.reset();
          Retry(*item, r.message);
          break;
        case O::kResponse: {
          const auto kind = ClassifyStoreStatus(r.status);
          if (kind == StoreStatusKind::kFailure) {
            Retry(*item, "C-STORE failed: " + DescribeDimseStatus(r.status) + (r.message.empty() ? "" : ": ") +
                             r.message);
          } else {
            Stored(item->file, node, kind == StoreStatusKind::kWarning
                                         ? f.path + ": stored with warning " + DescribeDimseStatus(r.status) +
                                               (r.message.empty() ? "" : ": ") + r.message
                                         : "");
          }
          break;
        }
      }
    }
    if (assoc) (void)assoc->Release();  // best effort: the outcome is already decided
  }

  template <typename F>
  void Count(F&& f) {
    std::lock_guard<std::mutex> lk(mu_);
    f();
  }

  void Stored(size_t file, size_t node, const std::string& warning) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      ++report_.stored;
      report_.bytes += files_[file].size;
      ++report_.stored_per_node[node];
      if (!warning.empty()) {
        ++report_.warnings;
        report_.warning_messages.push_back(warning);
      }
    }
    if (progress_) progress_->Add(1, files_[file].size);
    queue_->Settle();
  }

  void Retry(Item item, const std::string& why) {
    if (item.attempts > opt_.retries) {
      Fail(item.file, why + " (after " + std::to_string(item.attempts) + " attempts)", true);
      return;
    }
    Count([&] { ++report_.retries; });
    queue_->Return(item, false);
  }

  // IN_FLIGHT: the item came from Pop() (and must be settled).
  void Fail(size_t file, const std::string& why, bool in_flight) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      report_.failures.push_back({files_[file].path, files_[file].sop_instance_uid, why});
    }
    if (progress_) progress_->Add(1, 0);
    if (in_flight) queue_->Settle();
  }

  void NodeError(size_t node, const std::string& why) {
    std::lock_guard<std::mutex> lk(mu_);
    node_errors_.emplace(node, why);  // the first reason per node is kept
  }

  const std::vector<DicomFileInfo>& files_;
  const SendOptions& opt_;
  ProgressLine* progress_;
  std::vector<ContextGroup> groups_;
  std::vector<size_t> group_of_;
  std::unique_ptr<WorkQueue> queue_;
  std::mutex mu_;
  SendReport report_;
  std::map<size_t, std::string> node_errors_;  // first connection error per node
  std::set<size_t> node_connected_;             // nodes at least one association reached
};

}  // namespace

Status ValidateAeTitle(const std::string& aet, const std::string& what) {
  if (aet.empty() || aet.size() > 16) return Status::InvalidArgument(what + " must be 1..16 characters: '" + aet + "'");
  if (aet.find_first_not_of(' ') == std::string::npos) return Status::InvalidArgument(what + " is all spaces");
  for (unsigned char c : aet)
    if (c < 0x20 || c == '\\' || c >= 0x7F) return Status::InvalidArgument(what + " has an invalid character: '" + aet + "'");
  return Status::OK();
}

Result<SendReport> SendFiles(const std::vector<DicomFileInfo>& files, const SendOptions& options,
                             ProgressLine* progress) {
  if (options.nodes.empty()) return Status::InvalidArgument("no node to send to");
  if (options.parallel < 1) return Status::InvalidArgument("--parallel must be at least 1");
  if (options.retries < 0) return Status::InvalidArgument("--retries must not be negative");
  STRATA_RETURN_IF_ERROR(ValidateAeTitle(options.calling_aet, "calling AE title"));
  STRATA_RETURN_IF_ERROR(ValidateAeTitle(options.called_aet, "called AE title"));
  return Run(files, options, progress).Go();
}

}  // namespace strata
