#include "util/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <map>

#include <nlohmann/json.hpp>

#include "util/base64.h"

namespace strata {
namespace {

using nlohmann::json;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::shared_ptr<EVP_PKEY>;

enum class Alg { kRS256, kES256 };

struct Jwk {
  std::string kid;
  Alg alg;
  PkeyPtr key;
};

struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;

BnPtr Bn(const std::string& bytes) {
  return BnPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()), nullptr));
}

// EVP_PKEY from key parameters (OpenSSL 3 provider API: no deprecated RSA_/EC_KEY calls).
PkeyPtr FromParams(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* pkey = nullptr;
  if (params != nullptr && ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1)
    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  return PkeyPtr(pkey, PkeyFree());
}

Result<PkeyPtr> RsaKey(const std::string& n, const std::string& e) {
  BnPtr bn = Bn(n), be = Bn(e);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  if (!bn || !be || bld == nullptr) {
    OSSL_PARAM_BLD_free(bld);
    return Status::Internal("out of memory building an RSA key");
  }
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn.get());
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be.get());
  PkeyPtr key = FromParams("RSA", bld);
  OSSL_PARAM_BLD_free(bld);
  if (!key) return Status::InvalidArgument("unusable RSA key");
  if (EVP_PKEY_get_bits(key.get()) < 2048) return Status::InvalidArgument("RSA key shorter than 2048 bits");
  return key;
}

Result<PkeyPtr> P256Key(const std::string& x, const std::string& y) {
  if (x.size() != 32 || y.size() != 32) return Status::InvalidArgument("P-256 coordinates must be 32 bytes");
  const std::string point = std::string(1, '\x04') + x + y;  // uncompressed SEC1 point
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  if (bld == nullptr) return Status::Internal("out of memory building an EC key");
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  PkeyPtr key = FromParams("EC", bld);
  OSSL_PARAM_BLD_free(bld);
  if (!key) return Status::InvalidArgument("unusable P-256 key (point not on the curve?)");
  return key;
}

std::string StringField(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<std::string> B64Field(const json& j, const char* name) {
  const std::string v = StringField(j, name);
  if (v.empty()) return Status::InvalidArgument(std::string("JWK without \"") + name + "\"");
  return Base64UrlDecode(v);
}

Result<Jwk> ParseJwk(const json& k) {
  if (!k.is_object()) return Status::InvalidArgument("JWK is not an object");
  const std::string kty = StringField(k, "kty"), use = StringField(k, "use"), alg = StringField(k, "alg");
  if (!use.empty() && use != "sig") return Status::InvalidArgument("JWK not meant for signatures");
  Jwk jwk;
  jwk.kid = StringField(k, "kid");
  if (kty == "RSA") {
    if (!alg.empty() && alg != "RS256") return Status::InvalidArgument("RSA JWK for " + alg);
    STRATA_ASSIGN_OR_RETURN(std::string n, B64Field(k, "n"));
    STRATA_ASSIGN_OR_RETURN(std::string e, B64Field(k, "e"));
    STRATA_ASSIGN_OR_RETURN(jwk.key, RsaKey(n, e));
    jwk.alg = Alg::kRS256;
  } else if (kty == "EC") {
    if (StringField(k, "crv") != "P-256") return Status::InvalidArgument("EC JWK not on P-256");
    if (!alg.empty() && alg != "ES256") return Status::InvalidArgument("EC JWK for " + alg);
    STRATA_ASSIGN_OR_RETURN(std::string x, B64Field(k, "x"));
    STRATA_ASSIGN_OR_RETURN(std::string y, B64Field(k, "y"));
    STRATA_ASSIGN_OR_RETURN(jwk.key, P256Key(x, y));
    jwk.alg = Alg::kES256;
  } else {
    return Status::InvalidArgument("JWK of type '" + kty + "' not supported");
  }
  return jwk;
}

// JWS ES256 signatures are R || S (32 bytes each); EVP wants DER.
Result<std::string> EcdsaRawToDer(const std::string& raw) {
  if (raw.size() != 64) return Status::InvalidArgument("ES256 signature is not 64 bytes");
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return Status::Internal("out of memory decoding a signature");
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (len <= 0) return Status::Internal("cannot encode an ECDSA signature");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

bool VerifySha256(EVP_PKEY* key, const std::string& data, const std::string& sig) {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  bool ok = md != nullptr && EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(md);
  return ok;
}

Result<json> ParseSegment(const std::string& b64, const char* what) {
  auto raw = Base64UrlDecode(b64);
  if (!raw.ok()) return Status::InvalidArgument(std::string("malformed token ") + what);
  json j = json::parse(raw.value(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Status::InvalidArgument(std::string("token ") + what + " is not a JSON object");
  return j;
}

// A NumericDate claim; false when present but not a number.
bool TimeClaim(const json& p, const char* name, bool* present, int64_t* value) {
  auto it = p.find(name);
  *present = it != p.end();
  if (!*present) return true;
  if (!it->is_number()) return false;
  *value = static_cast<int64_t>(it->get<double>());
  return true;
}

}  // namespace

struct JwtValidator::KeySet {
  std::vector<Jwk> keys;
};

JwtValidator::JwtValidator(JwtOptions options) : options_(std::move(options)), keys_(std::make_shared<KeySet>()) {}
JwtValidator::~JwtValidator() = default;

Status JwtValidator::SetKeys(const std::string& jwks_json) {
  json doc = json::parse(jwks_json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array())
    return Status::InvalidArgument("JWKS is not a JSON object with a \"keys\" array");
  auto set = std::make_shared<KeySet>();
  std::string skipped;
  for (const auto& k : doc["keys"]) {
    auto jwk = ParseJwk(k);
    if (jwk.ok())
      set->keys.push_back(std::move(jwk.value()));
    else
      skipped = jwk.status().message();
  }
  if (set->keys.empty())
    return Status::InvalidArgument("JWKS holds no usable RS256/ES256 key" + (skipped.empty() ? "" : " (" + skipped + ")"));
  std::lock_guard<std::mutex> lk(mu_);
  keys_ = std::move(set);
  return Status::OK();
}

size_t JwtValidator::key_count() const {
  std::lock_guard<std::mutex> lk(mu_);
  return keys_->keys.size();
}

Result<JwtClaims> JwtValidator::Validate(const std::string& token, int64_t now_s) const {
  const size_t d1 = token.find('.');
  const size_t d2 = d1 == std::string::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string::npos || token.find('.', d2 + 1) != std::string::npos)
    return Status::InvalidArgument("token is not a compact JWS (header.payload.signature)");
  STRATA_ASSIGN_OR_RETURN(json header, ParseSegment(token.substr(0, d1), "header"));
  const std::string alg_name = StringField(header, "alg");
  Alg alg;
  if (alg_name == "RS256")
    alg = Alg::kRS256;
  else if (alg_name == "ES256")
    alg = Alg::kES256;
  else
    return Status::InvalidArgument("token algorithm '" + alg_name + "' not accepted (RS256 or ES256)");
  auto sig = Base64UrlDecode(token.substr(d2 + 1));
  if (!sig.ok() || sig->empty()) return Status::InvalidArgument("malformed token signature");
  std::string der;
  if (alg == Alg::kES256) {
    STRATA_ASSIGN_OR_RETURN(der, EcdsaRawToDer(sig.value()));
  }
  const std::string& signature = alg == Alg::kES256 ? der : sig.value();

  std::shared_ptr<const KeySet> keys;
  {
    std::lock_guard<std::mutex> lk(mu_);
    keys = keys_;
  }
  const std::string kid = StringField(header, "kid");
  const std::string signed_part = token.substr(0, d2);
  bool candidate = false, verified = false;
  for (const Jwk& k : keys->keys) {
    if (k.alg != alg || (!kid.empty() && k.kid != kid)) continue;
    candidate = true;
    if (VerifySha256(k.key.get(), signed_part, signature)) {
      verified = true;
      break;
    }
  }
  if (!candidate)
    return Status::InvalidArgument(kid.empty() ? "no " + alg_name + " key in the JWKS"
                                               : "unknown key id '" + kid + "' for " + alg_name);
  if (!verified) return Status::InvalidArgument("token signature does not verify");

  // Claims only count once the signature is good.
  STRATA_ASSIGN_OR_RETURN(json p, ParseSegment(token.substr(d1 + 1, d2 - d1 - 1), "payload"));
  bool has_exp = false, has_nbf = false;
  int64_t exp = 0, nbf = 0;
  if (!TimeClaim(p, "exp", &has_exp, &exp) || !TimeClaim(p, "nbf", &has_nbf, &nbf))
    return Status::InvalidArgument("token exp/nbf is not a number");
  if (!has_exp) return Status::InvalidArgument("token has no expiry (exp)");
  if (now_s > exp + options_.leeway_s) return Status::InvalidArgument("token expired");
  if (has_nbf && now_s + options_.leeway_s < nbf) return Status::InvalidArgument("token not yet valid (nbf)");
  if (!options_.issuer.empty() && StringField(p, "iss") != options_.issuer)
    return Status::InvalidArgument("token issuer is not the configured one");
  if (!options_.audiences.empty()) {
    std::vector<std::string> aud;
    if (auto it = p.find("aud"); it != p.end()) {
      if (it->is_string()) aud.push_back(it->get<std::string>());
      if (it->is_array())
        for (const auto& a : *it)
          if (a.is_string()) aud.push_back(a.get<std::string>());
    }
    bool match = false;
    for (const auto& want : options_.audiences)
      for (const auto& a : aud) match = match || (!want.empty() && a == want);
    if (!match) return Status::InvalidArgument("token audience is not this archive");
  }
  JwtClaims c;
  c.expires_s = exp;
  for (const char* name : {"sub", "preferred_username", "client_id"}) {
    c.subject = StringField(p, name);
    if (!c.subject.empty()) break;
  }
  if (auto it = p.find(options_.roles_claim); it != p.end()) {
    if (it->is_array()) {
      for (const auto& r : *it)
        if (r.is_string()) c.roles.push_back(r.get<std::string>());
    } else if (it->is_string()) {  // OAuth 2 "scope": space-separated
      const std::string s = it->get<std::string>();
      size_t pos = 0;
      while (pos < s.size()) {
        size_t end = s.find(' ', pos);
        if (end == std::string::npos) end = s.size();
        if (end > pos) c.roles.push_back(s.substr(pos, end - pos));
        pos = end + 1;
      }
    }
  }
  return c;
}

}  // namespace strata
