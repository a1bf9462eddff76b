#include "cli/serve_command.h"

#include <csignal>
#include <thread>

#include "archive/archive.h"
#include "cli/converter_options.h"
#include "tiering/converter.h"
#include "net/dimse/dimse_server.h"
#include "net/web/web_server.h"
#include "util/file_util.h"
#include "util/log.h"

namespace strata {
namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

}  // namespace

int RunServe(const Config& config) {
  auto opts = ArchiveOptionsFromConfig(config);
  auto copts = ConverterOptionsFromConfig(config);
  if (!opts.ok() || !copts.ok()) {
    spdlog::error("configuration: {}", (opts.ok() ? copts.status() : opts.status()).ToString());
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
  // HTTP first, so that it accepts connections once the DICOM port does (0 = no HTTP).
  std::unique_ptr<WebServer> web;
  if (const int64_t http_port = config.GetInt("http_port").value(); http_port > 0) {
    WebOptions w;
    w.bind = config.Get("bind");
    w.port = static_cast<int>(http_port);
    w.auth = config.Get("web.auth");
    w.threads = static_cast<int>(config.GetInt("web.threads").value());
    w.header_timeout_s = static_cast<int>(config.GetInt("web.header_timeout").value());
    w.keep_alive_timeout_s = static_cast<int>(config.GetInt("web.keep_alive_timeout").value());
    w.max_connections = static_cast<int>(config.GetInt("web.max_connections").value());
    w.cors_origins = config.GetList("web.cors_origins");
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
  spdlog::info("event=start aet={} dimse={}:{} catalog={} hot={} cold={}", d.aet, d.bind, port.value(),
               opts->catalog.url, opts->hot_dir, (*archive)->cold()->Describe());
  std::thread dimse_thread([&] { dimse.Serve(); });
  Converter converter(archive->get(), copts.value());
  if (config.GetBool("tiering.enabled")) converter.Start();
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  spdlog::info("event=stopping");
  converter.Stop();
  if (web) web->Stop();
  dimse.Stop();
  dimse_thread.join();
  return 0;
}

}  // namespace strata
