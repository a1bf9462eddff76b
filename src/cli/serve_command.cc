#include "cli/serve_command.h"

#include <dcmtk/dcmnet/assoc.h>

#include <csignal>
#include <thread>

#include "archive/archive.h"
#include "cli/tiering_options.h"
#include "cli/replica_options.h"
#include "tiering/migration_scheduler.h"
#include "net/dimse/ae_binding.h"
#include "net/dimse/dimse_permissions.h"
#include "net/dimse/dimse_server.h"
#include "net/web/web_server.h"
#include "util/audit_log.h"
#include "util/duration.h"
#include "util/file_util.h"
#include "util/log.h"

namespace strata {
namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

// Reconciles the hot tier with the catalog at start and then every INTERVAL_MS (0 = once):
// files a crash left between rename and commit are re-indexed or removed (issue 10).
void ReconcileLoop(Archive* archive, int64_t grace_ms, int64_t interval_ms) {
  // Rows catalogued before schema v6 get their QIDO-RS attributes first (once per start).
  if (auto n = archive->BackfillHeaders([] { return g_stop.load(); }); !n.ok())
    spdlog::warn("event=header_backfill_failed error={}", n.status().ToString());
  auto next = std::chrono::steady_clock::now();
  while (!g_stop) {
    if (std::chrono::steady_clock::now() >= next) {
      ReconcileReport rep;
      if (Status s = archive->ReconcileHot(grace_ms, &rep, false, [] { return g_stop.load(); }); !s.ok())
        spdlog::warn("event=hot_reconcile_failed error={}", s.ToString());
      if (interval_ms <= 0) return;
      next = std::chrono::steady_clock::now() + std::chrono::milliseconds(interval_ms);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace

int RunServe(const Config& config) {
  auto opts = ArchiveOptionsFromConfig(config);
  auto copts = TieringOptionsFromConfig(config);
  if (!opts.ok() || !copts.ok()) {
    spdlog::error("configuration: {}", (opts.ok() ? copts.status() : opts.status()).ToString());
    return 2;
  }
  auto ropts = ReplicatorOptionsFromConfig(config);
  auto scrub_opts = RepairOptionsFromConfig(config);
  if (!ropts.ok() || !scrub_opts.ok()) {
    spdlog::error("configuration: {}", (ropts.ok() ? scrub_opts.status() : ropts.status()).ToString());
    return 2;
  }
  auto reconcile_interval = ParseDurationMs(config.Get("hot.reconcile_interval"));
  if (!reconcile_interval.ok()) {
    spdlog::error("configuration: hot.reconcile_interval: {}", reconcile_interval.status().ToString());
    return 2;
  }
  // DCMTK accepts a receive PDU size from 4 KiB to 128 KiB only; beyond it every association
  // would fail with "Illegal parameter (maxPDU)" and the peer would wait for its timeout.
  if (const int64_t pdu = config.GetInt("dimse.max_pdu").value(); pdu < ASC_MINIMUMPDUSIZE || pdu > ASC_MAXIMUMPDUSIZE) {
    spdlog::error("configuration: dimse.max_pdu is {}; it must be between {} and {} bytes", pdu, ASC_MINIMUMPDUSIZE,
                  ASC_MAXIMUMPDUSIZE);
    return 2;
  }
  if (Status s = MakeDirs(config.Get("data")); !s.ok()) {
    spdlog::error("{}", s.ToString());
    return 1;
  }
  auto archive = Archive::Open(opts.value());
  if (!archive.ok()) {
    spdlog::error("cannot open the archive: {}", archive.status().ToString());
    return 1;
  }
  DimseOptions d;
  d.aet = config.Get("aet");
  d.bind = config.Get("bind");
  d.port = static_cast<int>(config.GetInt("port").value());
  d.max_associations = static_cast<int>(config.GetInt("dimse.max_associations").value());
  d.max_pdu = static_cast<unsigned>(config.GetInt("dimse.max_pdu").value());
  d.idle_timeout_s = static_cast<int>(config.GetInt("dimse.idle_timeout").value());
  d.max_associations_per_peer = static_cast<int>(config.GetInt("dimse.max_associations_per_peer").value());
  d.max_associations_per_ae = static_cast<int>(config.GetInt("dimse.max_associations_per_ae").value());
  d.reserved_query_slots = static_cast<int>(config.GetInt("dimse.reserved_query_slots").value());
  d.max_pending = static_cast<int>(config.GetInt("dimse.max_pending").value());
  d.max_pending_per_peer = static_cast<int>(config.GetInt("dimse.max_pending_per_peer").value());
  d.handshake_timeout_s = static_cast<int>(config.GetInt("dimse.handshake_timeout").value());
  d.allowed_calling_aets = config.GetList("dimse.allowed_aets");
  d.move_destinations = config.GetMap("dimse.move_destinations");
  d.tls_port = static_cast<int>(config.GetInt("dimse.tls_port").value());
  d.plain = config.GetBool("dimse.plain");
  d.tls_cert = config.Get("dimse.tls_cert");
  d.tls_key = config.Get("dimse.tls_key");
  d.tls_ca = config.Get("dimse.tls_ca");
  d.tls_require_client_cert = config.GetBool("dimse.tls_require_client_cert");
  d.tls_profile = config.Get("dimse.tls_profile");
  d.tls_destinations = config.GetList("dimse.tls_destinations");
  if (std::string why = ParseAeBindings(config.GetMap("dimse.tls_client_aets"), &d.tls_client_aets); !why.empty()) {
    spdlog::error("{}", why);
    return 1;
  }
  if (std::string why = ParseAePermissions(config.GetMap("dimse.ae_permissions"), true, &d.ae_permissions);
      !why.empty()) {
    spdlog::error("dimse.ae_permissions: {}", why);
    return 1;
  }
  if (std::string why = ParseAePermissions(config.GetMap("dimse.move_allowed"), false, &d.move_allowed); !why.empty()) {
    spdlog::error("dimse.move_allowed: {}", why);
    return 1;
  }
  std::unique_ptr<AuditLog> audit;
  if (const std::string file = config.Get("audit.file"); !file.empty()) {
    auto opened = AuditLog::Open({file, config.Get("audit.syslog"), "strata"});
    if (!opened.ok()) {
      spdlog::error("audit.file: {}", opened.status().ToString());
      return 1;
    }
    audit = std::move(opened).value();
    d.audit = audit.get();
  }
  for (const auto& ae : d.tls_destinations)
    if (!d.move_destinations.count(ae)) {
      spdlog::error("dimse.tls_destinations: '{}' is not in dimse.move_destinations", ae);
      return 1;
    }
  // HTTP first, so that it accepts connections once the DICOM port does (0 = no HTTP).
  std::unique_ptr<WebServer> web;
  const int64_t http_port = config.GetInt("http_port").value();
  const int64_t https_port = config.GetInt("web.https_port").value();
  if (http_port > 0 || https_port > 0) {
    WebOptions w;
    w.bind = config.Get("bind");
    w.port = static_cast<int>(http_port);
    w.https_port = static_cast<int>(https_port);
    w.tls_cert = config.Get("web.tls_cert");
    w.tls_key = config.Get("web.tls_key");
    w.http = http_port > 0 ? config.Get("web.http") : "off";
    w.auth = config.Get("web.auth");
    w.users = config.GetMap("web.users");
    w.tokens = config.GetMap("web.tokens");
    w.jwks_file = config.Get("web.jwks_file");
    w.jwks_url = config.Get("web.jwks_url");
    w.jwks_refresh_s = static_cast<int>(config.GetInt("web.jwks_refresh").value());
    w.jwt_issuer = config.Get("web.jwt_issuer");
    w.jwt_audiences = config.GetList("web.jwt_audience");
    w.jwt_roles_claim = config.Get("web.jwt_roles_claim");
    w.jwt_leeway_s = static_cast<int>(config.GetInt("web.jwt_leeway").value());
    w.session_lifetime_s = config.GetInt("web.session_lifetime").value();
    w.audit = audit.get();
    w.threads = static_cast<int>(config.GetInt("web.threads").value());
    w.header_timeout_s = static_cast<int>(config.GetInt("web.header_timeout").value());
    w.keep_alive_timeout_s = static_cast<int>(config.GetInt("web.keep_alive_timeout").value());
    w.max_connections = static_cast<int>(config.GetInt("web.max_connections").value());
    w.cors_origins = config.GetList("web.cors_origins");
    w.viewer_dir = config.Get("web.viewer_dir");
    w.time_zone = config.Get("web.time_zone");
    web = std::make_unique<WebServer>(archive->get(), w);
    if (auto hp = web->Start(); !hp.ok()) {
      spdlog::error("cannot start HTTP service: {}", hp.status().ToString());
      return 1;
    }
  }
  DimseServer dimse(archive->get(), d);
  auto port = dimse.Start();
  if (!port.ok()) {
    spdlog::error("cannot start DICOM service: {}", port.status().ToString());
    return 1;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);
  spdlog::info("event=start aet={} dimse={}:{} dimse_tls={} catalog={} hot={} cold={}", d.aet, d.bind, port.value(),
               dimse.tls_port(),
               opts->catalog.url, opts->hot_dir, (*archive)->cold()->Describe());
  std::thread dimse_thread([&] { dimse.Serve(); });
  MigrationScheduler converter(archive->get(), copts.value());
  if (config.GetBool("tiering.enabled")) converter.Start();
  // The backup queue and the background scrubber, when a replica is configured.
  std::unique_ptr<Replicator> replicator;
  std::unique_ptr<PackScrubber> scrubber;
  if (ColdStore* replica = (*archive)->replica()) {
    replicator = std::make_unique<Replicator>(archive->get(), replica, ropts.value());
    replicator->Start();
    if (scrub_opts->interval_ms > 0) {
      scrubber = std::make_unique<PackScrubber>(archive->get(), replica, scrub_opts.value());
      scrubber->Start();
    }
    spdlog::info("event=replica_start replica={} window=\"{}\" scrub_interval_ms={}", replica->Describe(),
                 ropts->window, scrub_opts->interval_ms);
  }
  std::thread reconcile_thread(ReconcileLoop, archive->get(), opts->hot_reconcile_grace_ms,
                               reconcile_interval.value());
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  spdlog::info("event=stopping");
  reconcile_thread.join();
  converter.Stop();
  if (scrubber) scrubber->Stop();
  if (replicator) replicator->Stop();
  if (web) web->Stop();
  dimse.Stop();
  dimse_thread.join();
  return 0;
}

}  // namespace strata
