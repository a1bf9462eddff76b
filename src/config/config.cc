#include "config/config.h"
#include "util/strings.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <toml.hpp>

namespace strata {

const std::vector<SettingDef>& AllSettings() {
  using T = SettingDef;
  static const std::vector<SettingDef> defs = {
      {"data", "./strata-data", "data directory (catalog, hot tier and local cold store live here by default)", T::kString},
      {"log_level", "info", "trace, debug, info, warn or error", T::kString},
      {"node_id", "", "this node's name in a multi-node setup (default: the hostname)", T::kString},
      {"aet", "STRATA", "our DICOM AE title", T::kString},
      {"bind", "127.0.0.1", "address the DICOM and HTTP ports listen on", T::kString},
      {"port", "11112", "DICOM (DIMSE) port", T::kInt},
      {"http_port", "8080", "HTTP port (DICOMweb and the web page); 0 = off", T::kInt},
      {"catalog", "sqlite:${data}/catalog.db", "catalog URL: sqlite:PATH or postgresql://...", T::kString},
      {"hot_dir", "${data}/hot", "hot tier directory (local or shared filesystem)", T::kString},
      {"cold", "file:${data}/cold", "cold store URL: file:DIR or s3://BUCKET[/PREFIX]", T::kString},
      {"duplicates", "keep", "re-sent SOP Instance UID with other bytes: keep (warn), replace or reject", T::kString},
      {"query.pn_match", "exact", "person names in C-FIND/QIDO: exact (decoded text, ASCII case ignored) or insensitive (case and accents ignored: muller finds Müller)", T::kString},
      {"read_ahead", "8", "cold reads in flight while streaming a study", T::kInt},
      {"read_run_bytes", "2097152", "bytes of adjacent pack entries one cold read may cover while streaming a study (0 = one read per entry)", T::kInt},
      {"hot.reconcile_grace", "1h", "hot files no catalog row references are re-indexed or removed once this old (a live store renames, then commits)", T::kString},
      {"hot.reconcile_interval", "1h", "how often the server reconciles the hot tier with the catalog (0 = only at start)", T::kString},
      {"dimse.max_associations", "32", "associations served at once; more are rejected (transient)", T::kInt},
      {"dimse.max_pdu", "131072", "maximum PDU size we receive and send", T::kInt},
      {"dimse.idle_timeout", "60", "seconds an association may stay silent", T::kInt},
      {"dimse.max_associations_per_peer", "8", "associations from one network address at once", T::kInt},
      {"dimse.max_associations_per_ae", "8", "associations with one calling AE title at once", T::kInt},
      {"dimse.reserved_query_slots", "2", "of max_associations, slots kept for C-ECHO/C-FIND-only associations", T::kInt},
      {"dimse.max_pending", "64", "connections still in their handshake at once; more are closed", T::kInt},
      {"dimse.max_pending_per_peer", "16", "connections in their handshake from one address", T::kInt},
      {"dimse.handshake_timeout", "10", "seconds a new connection has to send its A-ASSOCIATE-RQ", T::kInt},
      {"dimse.allowed_aets", "", "calling AE titles allowed (empty = any)", T::kList},
      {"dimse.move_destinations", "", "C-MOVE destinations and storage commitment requesters: AE=host:port,...", T::kMap},
      {"dimse.tls_port", "0", "DICOM TLS port beside the plain one (0 = off)", T::kInt},
      {"dimse.plain", "true", "the plain (non-TLS) DICOM port; false = DICOM TLS only", T::kBool},
      {"dimse.tls_cert", "", "PEM certificate (chain) of the TLS port", T::kString},
      {"dimse.tls_key", "", "PEM private key of dimse.tls_cert", T::kString},
      {"dimse.tls_ca", "", "PEM CA certificates that client certificates and TLS destinations are checked against", T::kString},
      {"dimse.tls_require_client_cert", "false", "mutual TLS: refuse clients without a certificate from dimse.tls_ca", T::kBool},
      {"dimse.tls_profile", "bcp195-nd", "TLS profile: bcp195-nd (non-downgrading, TLS 1.2+), bcp195 (also TLS 1.1 and older suites) or bcp195-ex (extended)", T::kString},
      {"dimse.tls_client_aets", "", "certificate identity (CN or SAN) -> calling AE titles it alone may use: ID=AE1|AE2,...", T::kMap},
      {"dimse.tls_destinations", "", "move destinations / commitment requesters reached over TLS (AE titles)", T::kList},
      {"s3.endpoint", "", "S3 endpoint URL (default: AWS_ENDPOINT_URL)", T::kString},
      {"s3.region", "", "S3 region (default: AWS_REGION or us-east-1)", T::kString},
      {"s3.access_key", "", "S3 access key (default: AWS_ACCESS_KEY_ID)", T::kString},
      {"s3.secret_key", "", "S3 secret key (default: AWS_SECRET_ACCESS_KEY)", T::kString},
      {"s3.path_style", "true", "path-style addressing (false: virtual-hosted)", T::kBool},
      {"s3.ca_file", "", "extra CA bundle for HTTPS", T::kString},
      {"s3.parallel", "4", "parallel part uploads / ranged reads per operation", T::kInt},
      {"replica", "", "second cold store every verified pack is copied to (backup queue): file:DIR or s3://BUCKET[/PREFIX]; empty = none", T::kString},
      {"replica.endpoint", "", "the replica's S3 endpoint (empty: s3.endpoint)", T::kString},
      {"replica.region", "", "the replica's S3 region (empty: s3.region)", T::kString},
      {"replica.access_key", "", "the replica's S3 access key (empty: s3.access_key)", T::kString},
      {"replica.secret_key", "", "the replica's S3 secret key (empty: s3.secret_key)", T::kString},
      {"replica.window", "", "only copy between these local times, e.g. 22:00-06:00 (empty = always)", T::kString},
      {"replica.interval", "1m", "how often the server looks for packs to replicate", T::kString},
      {"replica.retry", "30s", "first retry delay of a failed copy (doubles per attempt)", T::kString},
      {"replica.retry_max", "1h", "longest retry delay of a failed copy", T::kString},
      {"scrub.interval", "0", "with a replica: verify every pack in both stores and restore bad copies this often (0 = off)", T::kString},
      {"scrub.pause", "1s", "pause between two packs of a background scrub pass (its pace)", T::kString},
      {"tiering.enabled", "true", "run the converter in the server", T::kBool},
      {"tiering.older_than", "7d", "migrate studies whose last image arrived longer ago than this", T::kString},
      {"tiering.study_date_older_than", "", "also/instead: StudyDate older than this (e.g. 365d)", T::kString},
      {"tiering.interval", "5m", "how often the converter looks for work", T::kString},
      {"tiering.window", "", "only run between these local times, e.g. 22:00-06:00 (empty = always)", T::kString},
      {"tiering.studies_at_once", "2", "studies migrated in parallel", T::kInt},
      {"tiering.codec", "jpeg-ls", "lossless compression when packing: none, jpeg-ls, j2k or htj2k", T::kString},
      {"tiering.codec_by_modality", "", "per-modality codec, e.g. CT=htj2k,MR=jpeg-ls", T::kMap},
      {"tiering.lossy_ratio", "0", "> 0 with codec j2k: LOSSY JPEG 2000 at this ratio (explicit opt-in)", T::kString},
      {"tiering.lossy_replaces_originals", "false",
       "required with lossy_ratio > 0: accept that packs hold lossy images in place of the received ones", T::kBool},
      {"tiering.lease", "10m", "how long a migration claim lasts before another node may take it over", T::kString},
      {"tiering.orphan_grace", "", "age before the janitor deletes an unreferenced pack or upload (empty = 2 x lease)", T::kString},
      {"tiering.max_packs_per_study", "4", "a study's packs are consolidated into one before they exceed this", T::kInt},
      {"tiering.small_pack_share", "0.25", "also consolidate when packs besides the largest hold more than this share of the bytes", T::kString},
      {"lifecycle.rejected_delete_after", "", "delete instances rejected by an IOCM note this long ago, e.g. 30d (empty = keep them hidden)", T::kString},
      {"lifecycle.retention", "", "delete studies whose StudyDate is older than this, per modality or * for all, e.g. *=3650d,CR=5y (empty = keep everything)", T::kMap},
      {"web.threads", "16", "HTTP requests processed at once", T::kInt},
      {"web.header_timeout", "10", "seconds a client has to send a request header once it began", T::kInt},
      {"web.keep_alive_timeout", "5", "seconds an idle keep-alive HTTP connection stays open", T::kInt},
      {"web.max_connections", "4096", "open HTTP connections; more are closed at once", T::kInt},
      {"web.auth", "", "HTTP auth: empty (none), bearer:TOKEN or basic:USER:PASSWORD", T::kString},
      {"web.cors_origins", "", "origins allowed by CORS (comma-separated, * = any)", T::kList},
      {"web.viewer_dir", "", "OHIF Viewer's dist/ served at /viewer (empty = web/ohif, where install-deps.sh puts it)", T::kString},
      {"web.time_zone", "", "the site's time zone for the web page, e.g. Europe/Berlin (empty = the server's)", T::kString},
      {"web.https_port", "0", "HTTPS port (DICOMweb and the web page over TLS 1.2+); 0 = off", T::kInt},
      {"web.tls_cert", "", "PEM certificate chain of the HTTPS port", T::kString},
      {"web.tls_key", "", "PEM private key of web.tls_cert", T::kString},
      {"web.http", "on", "the plain HTTP port with HTTPS on: on, off, or redirect (308 to HTTPS)", T::kString},
      {"web.users", "", "HTTP Basic users: USER=ROLES:PASSWORD,... (ROLES: read|write|delete|admin)", T::kMap},
      {"web.tokens", "", "static bearer tokens: NAME=ROLES:TOKEN,...", T::kMap},
      {"web.jwks_file", "", "OAuth 2 / OIDC: JWKS file of the token issuer's keys (RS256, ES256)", T::kString},
      {"web.jwks_url", "", "OAuth 2 / OIDC: JWKS URL, fetched at start and every web.jwks_refresh seconds", T::kString},
      {"web.jwks_refresh", "3600", "seconds between JWKS reloads", T::kInt},
      {"web.jwt_issuer", "", "required JWT iss (empty = not checked)", T::kString},
      {"web.jwt_audience", "", "accepted JWT aud values (empty = not checked)", T::kList},
      {"web.jwt_roles_claim", "roles", "JWT claim with the roles (array, or space-separated like scope)", T::kString},
      {"web.jwt_leeway", "60", "seconds of clock skew allowed on JWT exp/nbf", T::kInt},
      {"web.session_lifetime", "28800", "seconds a browser sign-in (POST /api/session, session cookie) lasts", T::kInt},
      {"dimse.ae_permissions", "", "services per calling AE: AE=store|find|retrieve,... (* = other AEs; empty = all)", T::kMap},
      {"dimse.move_allowed", "", "C-MOVE destinations per calling AE: AE=DEST1|DEST2,... (* = other AEs / any destination)", T::kMap},
      {"audit.file", "", "audit trail: JSON lines file, one record per access and change (empty = off)", T::kString},
      {"audit.syslog", "", "audit copy to syslog: empty, local (syslog(3)) or udp:HOST:PORT (RFC 5424)", T::kString},
  };
  return defs;
}

std::string Config::EnvName(const std::string& name) {
  std::string e = "STRATA_";
  for (char c : name) e += (c == '.' || c == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return e;
}

std::string Config::FlagName(const std::string& name) {
  std::string f = "--";
  for (char c : name) f += (c == '.' || c == '_') ? '-' : c;
  return f;
}

namespace {

const SettingDef* FindDef(const std::string& name) {
  for (const auto& d : AllSettings())
    if (name == d.name) return &d;
  return nullptr;
}

nlohmann::json TomlToJson(const toml::value& v) {
  if (v.is_table()) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [k, x] : v.as_table()) j[k] = TomlToJson(x);
    return j;
  }
  if (v.is_array()) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& x : v.as_array()) j.push_back(TomlToJson(x));
    return j;
  }
  if (v.is_boolean()) return v.as_boolean();
  if (v.is_integer()) return v.as_integer();
  if (v.is_floating()) return v.as_floating();
  if (v.is_string()) return v.as_string().str;
  std::ostringstream os;
  os << v;
  return os.str();
}

// Flattens {"dimse": {"port": 1}} to {"dimse.port": 1}; maps stay objects.
void Flatten(const nlohmann::json& j, const std::string& prefix, std::map<std::string, nlohmann::json>* out,
             std::vector<std::string>* unknown) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    const SettingDef* d = FindDef(key);
    if (d) {
      (*out)[key] = it.value();
    } else if (it.value().is_object()) {
      Flatten(it.value(), key, out, unknown);
    } else {
      unknown->push_back(key);
    }
  }
}

}  // namespace

Result<Config> Config::Load(const std::string& file, const std::map<std::string, std::string>& overrides) {
  Config c;
  for (const auto& d : AllSettings()) c.values_[d.name] = std::string(d.def);
  if (!file.empty()) {
    nlohmann::json j;
    try {
      if (file.size() > 5 && file.substr(file.size() - 5) == ".toml") {
        j = TomlToJson(toml::parse(file));
      } else {
        std::ifstream in(file);
        if (!in) return Status::NotFound("cannot open config file " + file);
        j = nlohmann::json::parse(in);
      }
    } catch (const std::exception& e) {
      return Status::InvalidArgument("config file " + file + ": " + e.what());
    }
    if (!j.is_object()) return Status::InvalidArgument("config file " + file + " must hold an object/table");
    std::vector<std::string> unknown;
    std::map<std::string, nlohmann::json> flat;
    Flatten(j, "", &flat, &unknown);
    if (!unknown.empty()) {
      std::string list;
      for (const auto& u : unknown) list += (list.empty() ? "" : ", ") + u;
      return Status::InvalidArgument("config file " + file + ": unknown setting(s): " + list);
    }
    for (auto& [k, v] : flat) c.values_[k] = v;
  }
  for (const auto& d : AllSettings()) {
    if (const char* e = std::getenv(EnvName(d.name).c_str())) c.values_[d.name] = std::string(e);
  }
  for (const auto& [k, v] : overrides) {
    if (!FindDef(k)) return Status::InvalidArgument("unknown setting " + k);
    c.values_[k] = v;
  }
  // Validate numbers and booleans now, so that a typo fails at start-up, not later.
  for (const auto& d : AllSettings()) {
    if (d.type == SettingDef::kInt) {
      auto r = c.GetInt(d.name);
      if (!r.ok()) return r.status();
    }
  }
  return c;
}

std::string Config::Get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return {};
  std::string s = it->second.is_string() ? it->second.get<std::string>() : it->second.dump();
  if (name != "data") {
    const std::string data = Get("data");
    for (size_t p; (p = s.find("${data}")) != std::string::npos;) s.replace(p, 7, data);
  }
  return s;
}

Result<int64_t> Config::GetInt(const std::string& name) const {
  auto it = values_.find(name);
  if (it != values_.end() && it->second.is_number_integer()) return it->second.get<int64_t>();
  std::string s = Get(name);
  try {
    size_t used = 0;
    int64_t v = std::stoll(s, &used);
    if (used == s.size()) return v;
  } catch (...) {
  }
  return Status::InvalidArgument("setting " + name + " must be a whole number, not '" + s + "'");
}

bool Config::GetBool(const std::string& name) const {
  auto it = values_.find(name);
  if (it != values_.end() && it->second.is_boolean()) return it->second.get<bool>();
  std::string s = Get(name);
  return s == "1" || s == "true" || s == "yes" || s == "on";
}

std::vector<std::string> Config::GetList(const std::string& name) const {
  std::vector<std::string> out;
  auto it = values_.find(name);
  if (it != values_.end() && it->second.is_array()) {
    for (const auto& x : it->second) out.push_back(x.is_string() ? x.get<std::string>() : x.dump());
    return out;
  }
  for (std::string& item : SplitComma(Get(name)))
    if (!item.empty()) out.push_back(std::move(item));
  return out;
}

std::map<std::string, std::string> Config::GetMap(const std::string& name) const {
  std::map<std::string, std::string> out;
  auto it = values_.find(name);
  if (it != values_.end() && it->second.is_object()) {
    for (auto x = it->second.begin(); x != it->second.end(); ++x)
      out[x.key()] = x.value().is_string() ? x.value().get<std::string>() : x.value().dump();
    return out;
  }
  for (const auto& item : GetList(name)) {
    size_t eq = item.find('=');
    if (eq != std::string::npos) out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

nlohmann::json Config::ToJson(bool mask_secrets) const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& d : AllSettings()) {
    std::string v = Get(d.name);
    if (mask_secrets && (std::string(d.name) == "s3.secret_key" || std::string(d.name) == "web.auth" ||
                         std::string(d.name) == "web.users" || std::string(d.name) == "web.tokens") && !v.empty())
      v = "***";
    j[d.name] = v;
  }
  return j;
}

}  // namespace strata
