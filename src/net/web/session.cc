#include "net/web/session.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <ctime>
#include <iterator>

namespace strata::web {
namespace {

constexpr size_t kIdBytes = 32;  // 256 bits

std::string Digest(const std::string& id) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(id.data(), id.size(), d, &n, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(d), n);
}

bool WellFormed(const std::string& id) {
  if (id.size() != 2 * kIdBytes) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool Changes(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

}  // namespace

Result<NewSession> SessionTable::Create(const Identity& identity, int64_t now_s) {
  unsigned char raw[kIdBytes];
  if (RAND_bytes(raw, sizeof(raw)) != 1) return Status::Internal("no random bytes for a session id");
  static const char* hex = "0123456789abcdef";
  NewSession s;
  for (unsigned char b : raw) {
    s.id.push_back(hex[b >> 4]);
    s.id.push_back(hex[b & 15]);
  }
  s.expires_s = now_s + options_.lifetime_s;
  if (identity.expires_s > 0 && identity.expires_s < s.expires_s) s.expires_s = identity.expires_s;
  Identity stored = identity;
  stored.scheme = "session";
  std::lock_guard<std::mutex> lk(mu_);
  DropExpired(now_s);
  while (!by_digest_.empty() && by_digest_.size() >= std::max<size_t>(1, options_.max_sessions)) {
    auto soonest = by_digest_.begin();
    for (auto it = by_digest_.begin(); it != by_digest_.end(); ++it)
      if (it->second.expires_s < soonest->second.expires_s) soonest = it;
    by_digest_.erase(soonest);
  }
  by_digest_[Digest(s.id)] = Entry{std::move(stored), s.expires_s};
  return s;
}

std::optional<Identity> SessionTable::Find(const std::string& id, int64_t now_s) {
  if (!WellFormed(id)) return std::nullopt;
  std::lock_guard<std::mutex> lk(mu_);
  auto it = by_digest_.find(Digest(id));
  if (it == by_digest_.end()) return std::nullopt;
  if (it->second.expires_s <= now_s) {
    by_digest_.erase(it);
    return std::nullopt;
  }
  return it->second.identity;
}

bool SessionTable::Remove(const std::string& id) {
  if (!WellFormed(id)) return false;
  std::lock_guard<std::mutex> lk(mu_);
  return by_digest_.erase(Digest(id)) > 0;
}

size_t SessionTable::size() const {
  std::lock_guard<std::mutex> lk(mu_);
  return by_digest_.size();
}

void SessionTable::DropExpired(int64_t now_s) {
  for (auto it = by_digest_.begin(); it != by_digest_.end();)
    it = it->second.expires_s <= now_s ? by_digest_.erase(it) : std::next(it);
}

std::string CookieValue(const std::string& header, const std::string& name) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string::npos) end = header.size();
    size_t b = header.find_first_not_of(" \t", pos);
    if (b != std::string::npos && b < end) {
      const size_t eq = header.find('=', b);
      if (eq != std::string::npos && eq < end && header.compare(b, eq - b, name) == 0 && eq - b == name.size()) {
        std::string v = header.substr(eq + 1, end - eq - 1);
        while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        return v;
      }
    }
    pos = end + 1;
  }
  return {};
}

std::string SessionSetCookie(const std::string& id, int64_t max_age_s, bool secure) {
  std::string c = std::string(kSessionCookie) + "=" + id + "; Path=/; Max-Age=" + std::to_string(std::max<int64_t>(0, max_age_s)) +
                  "; HttpOnly; SameSite=Strict";
  if (secure) c += "; Secure";
  return c;
}

RequestAuth AuthenticateRequest(const AccessPolicy& policy, SessionTable* sessions, const httplib::Request& req) {
  return AuthenticateRequest(policy, sessions, req, static_cast<int64_t>(time(nullptr)));
}

RequestAuth AuthenticateRequest(const AccessPolicy& policy, SessionTable* sessions, const httplib::Request& req,
                                int64_t now_s) {
  RequestAuth r;
  const std::string authorization = req.get_header_value("Authorization");
  const std::string cookie =
      sessions != nullptr && policy.enabled() ? CookieValue(req.get_header_value("Cookie"), kSessionCookie) : "";
  // Explicit credentials win over a cookie: a client that sends them means them.
  if (!authorization.empty() || cookie.empty()) {
    r.auth = policy.Authenticate(authorization, now_s);
    return r;
  }
  r.by_cookie = true;
  r.auth.identity.scheme = "session";
  std::optional<Identity> who = sessions->Find(cookie, now_s);
  if (!who) {
    r.auth.error = "the session is unknown, signed out or expired: sign in again";
    return r;
  }
  r.auth.identity = *who;
  // See the header: a cookie alone does not change anything without the page's own header.
  if (Changes(req.method) && req.get_header_value(kCsrfHeader) != "1") {
    r.auth.error = std::string("a signed-in browser's ") + req.method + " needs the " + kCsrfHeader +
                   ": 1 header (refused as a possible cross-site request)";
    r.status = 403;
    return r;
  }
  r.auth.ok = true;
  return r;
}

}  // namespace strata::web
